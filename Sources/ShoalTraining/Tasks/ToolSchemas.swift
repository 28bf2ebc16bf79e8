import ShoalEngine
import Foundation
import ShoalJSON

/// One parameter of a tool schema.
struct ToolParameter: Sendable {
    var name: String
    /// BFCL's type names: string, integer, float.
    var type: String
    var description: String
    var allowed: [String]? = nil
    var required = true
    /// For optional parameters: the value the tool assumes when the call leaves it out,
    /// which BFCL accepts alongside "" (left out).
    var defaultValue: JSONText? = nil
}

/// What a drawn request asks for: the request text and the arguments it states, in schema
/// order. `alternatives` lists other spellings the request allows ("Paris" for
/// "Paris, France").
struct ToolRequest: Sendable {
    var text: String
    var arguments: [(String, JSONText)]
    var alternatives: [String: [JSONText]] = [:]
}

/// A tool the tools specialist learns to call: its BFCL schema and a way to draw requests for it.
struct ToolSpec: Sendable {
    var name: String
    var description: String
    var parameters: [ToolParameter]
    var request: @Sendable (inout SplitMix64, ToolValues) -> ToolRequest

    /// The BFCL function document.
    var schema: JSONText {
        let properties: [(String, JSONText)] = parameters.map { p in
            var fields: [(String, JSONText)] = [("type", .string(p.type)), ("description", .string(p.description))]
            if let allowed = p.allowed { fields.append(("enum", .array(allowed.map(JSONText.string)))) }
            return (p.name, .object(fields))
        }
        return .object([
            ("name", .string(name)), ("description", .string(description)),
            ("parameters", .object([
                ("type", .string("dict")), ("properties", .object(properties)),
                ("required", .array(parameters.filter(\.required).map { .string($0.name) })),
            ])),
        ])
    }

    /// BFCL's possible answer for `request`: each stated argument with its accepted
    /// spellings, each optional one left out as "" (or its default).
    func expected(for request: ToolRequest) -> JSONText {
        let arguments: [(String, JSONText)] = parameters.map { p in
            if let stated = request.arguments.first(where: { $0.0 == p.name })?.1 {
                return (p.name, .array([stated] + (request.alternatives[p.name] ?? [])))
            }
            return (p.name, .array([.string("")] + (p.defaultValue.map { [$0] } ?? [])))
        }
        return .array([.object([(name, .object(arguments))])])
    }

    /// The reference completion: `{"name": ..., "arguments": {...}}`.
    func call(for request: ToolRequest) -> JSONText {
        .object([("name", .string(name)), ("arguments", .object(request.arguments))])
    }
}

/// The tool registry the generator draws from.
enum ToolSchemas {
    static let all: [ToolSpec] = [weather, currency, calendar, units, timezone, stock, translate]

    static let cities: [(String, String)] = [
        ("Paris", "France"), ("Tokyo", "Japan"), ("Nairobi", "Kenya"), ("Lima", "Peru"), ("Oslo", "Norway"),
        ("Toronto", "Canada"), ("Mumbai", "India"), ("Cairo", "Egypt"), ("Sydney", "Australia"), ("Berlin", "Germany"),
        ("Madrid", "Spain"), ("Seoul", "South Korea"), ("Chicago", "USA"), ("Denver", "USA"), ("Dublin", "Ireland"),
        ("Hanoi", "Vietnam"), ("Lagos", "Nigeria"), ("Quito", "Ecuador"), ("Reykjavik", "Iceland"), ("Santiago", "Chile"),
    ]

    /// A city as the request names it, and the other spelling a call may use.
    static func place(_ rng: inout SplitMix64, _ values: ToolValues) -> (said: String, other: String) {
        let (city, country) = values.madeUp(&rng) ? (MadeUpValues.name(&rng), MadeUpValues.name(&rng)) : rng.pick(cities)
        return rng.chance(50) ? ("\(city), \(country)", city) : (city, "\(city), \(country)")
    }

    /// An amount as written in the request and as the float argument.
    static func amount(_ rng: inout SplitMix64, upTo top: Int) -> (String, Double) {
        let whole = rng.int(in: 1...top)
        return rng.chance(25) ? ("\(whole).5", Double(whole) + 0.5) : ("\(whole)", Double(whole))
    }

    static let weather = ToolSpec(
        name: "get_current_weather", description: "Get the current weather in a given location.",
        parameters: [
            ToolParameter(name: "location", type: "string", description: "The city, e.g. 'Paris, France' or 'Chicago'."),
            ToolParameter(name: "unit", type: "string", description: "Temperature unit. Default is 'fahrenheit'.",
                          allowed: ["celsius", "fahrenheit"], required: false, defaultValue: .string("fahrenheit")),
        ],
        request: { rng, values in
            let place = place(&rng, values)
            let unit = rng.pick([nil, "celsius", "fahrenheit"])
            let text = rng.pick(["What's the weather like in \(place.said) right now?", "How is the weather in \(place.said) today?",
                                 "Give me the current weather for \(place.said).", "Is it warm in \(place.said) at the moment?"])
            var args: [(String, JSONText)] = [("location", .string(place.said))]
            if let unit { args.append(("unit", .string(unit))) }
            return ToolRequest(text: text + (unit.map { " Please give the temperature in \($0)." } ?? ""), arguments: args,
                               alternatives: ["location": [.string(place.other)]])
        })

    static let currencies: [(String, String)] = [
        ("USD", "US dollars"), ("EUR", "euros"), ("GBP", "British pounds"), ("JPY", "Japanese yen"),
        ("CHF", "Swiss francs"), ("CAD", "Canadian dollars"), ("AUD", "Australian dollars"), ("INR", "Indian rupees"),
    ]

    static let currency = ToolSpec(
        name: "convert_currency", description: "Convert an amount of money from one currency to another at today's rate.",
        parameters: [
            ToolParameter(name: "amount", type: "float", description: "The amount to convert."),
            ToolParameter(name: "from_currency", type: "string", description: "ISO code of the currency to convert from.", allowed: currencies.map(\.0)),
            ToolParameter(name: "to_currency", type: "string", description: "ISO code of the currency to convert to.", allowed: currencies.map(\.0)),
        ],
        request: { rng, _ in
            let (said, value) = amount(&rng, upTo: 5000)
            let pair = rng.shuffled(currencies).prefix(2)
            let (from, to) = (pair[pair.startIndex], pair[pair.startIndex + 1])
            let text = rng.pick(["How much is \(said) \(from.1) in \(to.1)?", "Convert \(said) \(from.1) to \(to.1).",
                                 "I have \(said) \(from.1). What is that in \(to.1)?"])
            return ToolRequest(text: text, arguments: [("amount", .double(value)), ("from_currency", .string(from.0)), ("to_currency", .string(to.0))])
        })

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    static let titles = ["Team standup", "Dentist appointment", "Lunch with Maya", "Project review", "Yoga class",
                         "Budget meeting", "Call with the bank", "Book club", "Parent-teacher meeting", "Flight to Lisbon"]

    static let calendar = ToolSpec(
        name: "create_calendar_event", description: "Create an event in the user's calendar.",
        parameters: [
            ToolParameter(name: "title", type: "string", description: "The event's title."),
            ToolParameter(name: "date", type: "string", description: "The date, as YYYY-MM-DD."),
            ToolParameter(name: "start_time", type: "string", description: "The start time, 24-hour HH:MM."),
            ToolParameter(name: "duration_minutes", type: "integer", description: "Length in minutes. Default is 60.",
                          required: false, defaultValue: .int(60)),
        ],
        request: { rng, values in
            let title = values.madeUp(&rng) ? MadeUpValues.title(&rng) : rng.pick(titles)
            let (year, month, day) = (rng.int(in: 2026...2027), rng.int(in: 1...12), rng.int(in: 1...28))
            let (hour, minute) = (rng.int(in: 7...20), rng.pick([0, 15, 30, 45]))
            let duration: Int? = rng.chance(50) ? (values.madeUp(&rng) ? 5 * rng.int(in: 1...48) : rng.pick([15, 30, 45, 90, 120])) : nil
            let clock = "\((hour + 11) % 12 + 1):\(minute < 10 ? "0" : "")\(minute) \(hour < 12 ? "AM" : "PM")"
            let when = "\(months[month - 1]) \(day), \(year) at \(clock)"
            let text = rng.pick(["Add '\(title)' to my calendar on \(when)", "Schedule '\(title)' for \(when)",
                                 "Put '\(title)' in my calendar, \(when)"]) + (duration.map { " for \($0) minutes." } ?? ".")
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            var args: [(String, JSONText)] = [
                ("title", .string(title)), ("date", .string("\(year)-\(two(month))-\(two(day))")), ("start_time", .string("\(two(hour)):\(two(minute))")),
            ]
            if let duration { args.append(("duration_minutes", .int(duration))) }
            return ToolRequest(text: text, arguments: args)
        })

    static let unitGroups: [[String]] = [
        ["kilometers", "miles", "meters", "feet"], ["kilograms", "pounds", "grams", "ounces"],
        ["liters", "gallons", "milliliters"], ["celsius", "fahrenheit", "kelvin"],
    ]

    static let units = ToolSpec(
        name: "convert_units", description: "Convert a measurement from one unit to another of the same kind.",
        parameters: [
            ToolParameter(name: "value", type: "float", description: "The quantity to convert."),
            ToolParameter(name: "from_unit", type: "string", description: "The unit of the value.", allowed: unitGroups.flatMap { $0 }),
            ToolParameter(name: "to_unit", type: "string", description: "The unit to convert to.", allowed: unitGroups.flatMap { $0 }),
        ],
        request: { rng, _ in
            let pair = rng.shuffled(rng.pick(unitGroups)).prefix(2)
            let (from, to) = (pair[pair.startIndex], pair[pair.startIndex + 1])
            let (said, value) = amount(&rng, upTo: 1000)
            let text = rng.pick(["Convert \(said) \(from) to \(to).", "What is \(said) \(from) in \(to)?", "How many \(to) is \(said) \(from)?"])
            return ToolRequest(text: text, arguments: [("value", .double(value)), ("from_unit", .string(from)), ("to_unit", .string(to))])
        })

    static let timezone = ToolSpec(
        name: "get_timezone", description: "Look up the IANA time zone of a city.",
        parameters: [ToolParameter(name: "city", type: "string", description: "The city, e.g. 'Tokyo' or 'Tokyo, Japan'.")],
        request: { rng, values in
            let place = place(&rng, values)
            let text = rng.pick(["What time zone is \(place.said) in?", "Which time zone does \(place.said) use?",
                                 "Look up the time zone for \(place.said)."])
            return ToolRequest(text: text, arguments: [("city", .string(place.said))], alternatives: ["city": [.string(place.other)]])
        })

    static let companies: [(String, String, String)] = [
        ("Apple", "AAPL", "NASDAQ"), ("Microsoft", "MSFT", "NASDAQ"), ("Nvidia", "NVDA", "NASDAQ"), ("Amazon", "AMZN", "NASDAQ"),
        ("IBM", "IBM", "NYSE"), ("Coca-Cola", "KO", "NYSE"), ("Walmart", "WMT", "NYSE"), ("Shell", "SHEL", "LSE"),
        ("Unilever", "ULVR", "LSE"), ("BP", "BP", "LSE"),
    ]

    static let stock = ToolSpec(
        name: "get_stock_price", description: "Get the latest trading price of a stock.",
        parameters: [
            ToolParameter(name: "symbol", type: "string", description: "The ticker symbol, e.g. 'AAPL'."),
            ToolParameter(name: "exchange", type: "string", description: "The exchange. Default is 'NASDAQ'.",
                          allowed: ["NASDAQ", "NYSE", "LSE"], required: false, defaultValue: .string("NASDAQ")),
        ],
        request: { rng, values in
            let (company, symbol, exchange) = values.madeUp(&rng) ? MadeUpValues.company(&rng) : rng.pick(companies)
            let named = rng.chance(50)
            let text = rng.pick(["What's the current stock price of \(company) (\(symbol))", "How much is \(symbol) trading at",
                                 "Get me the latest share price for \(company), ticker \(symbol),"]) + (named ? " on the \(exchange)?" : "?")
            var args: [(String, JSONText)] = [("symbol", .string(symbol))]
            if named { args.append(("exchange", .string(exchange))) }
            return ToolRequest(text: text, arguments: args)
        })

    static let phrases = ["good morning", "where is the train station", "thank you very much", "I would like a coffee",
                          "see you tomorrow", "how much does this cost", "the meeting is at noon", "happy birthday",
                          "my name is Sam", "the museum opens at nine"]

    static let translate = ToolSpec(
        name: "translate_text", description: "Translate text into another language.",
        parameters: [
            ToolParameter(name: "text", type: "string", description: "The text to translate."),
            ToolParameter(name: "target_language", type: "string", description: "The language to translate into.",
                          allowed: ["French", "Spanish", "German", "Italian", "Japanese", "Portuguese"]),
        ],
        request: { rng, values in
            let phrase = values.madeUp(&rng) ? MadeUpValues.phrase(&rng) : rng.pick(phrases)
            let language = rng.pick(["French", "Spanish", "German", "Italian", "Japanese", "Portuguese"])
            let text = rng.pick(["Translate '\(phrase)' into \(language).", "How do you say '\(phrase)' in \(language)?",
                                 "Please translate '\(phrase)' to \(language)."])
            return ToolRequest(text: text, arguments: [("text", .string(phrase)), ("target_language", .string(language))])
        })
}
