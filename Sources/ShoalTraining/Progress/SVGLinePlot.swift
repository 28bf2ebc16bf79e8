import Foundation

/// A line chart as a standalone SVG file: several named series on shared axes, with
/// "nice" ticks, a legend, and an optional log-scale y axis (loss curves span decades).
/// Plain text output, so plots are made without any image library and diff in review.
public struct SVGLinePlot: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logY: Bool
    public var width = 720.0
    public var height = 420.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series] = [], logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    public func svg() -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 50.0
        let plotW = width - left - right, plotH = height - top - bottom
        // Only finite points (and positive ones on a log axis) can be drawn.
        let drawable = series.map { s in
            Series(name: s.name, points: s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) })
        }
        let all = drawable.flatMap(\.points)
        var xMin = all.map(\.x).min() ?? 0, xMax = all.map(\.x).max() ?? 1
        var yMin = all.map { ty($0.y) }.min() ?? 0, yMax = all.map { ty($0.y) }.max() ?? 1
        if xMax <= xMin { xMax = xMin + 1 }
        if yMax <= yMin { (yMin, yMax) = (yMin - 0.5, yMax + 0.5) }
        let xTicks = SVGLinePlot.niceTicks(xMin, xMax)
        let yTicks = logY ? SVGLinePlot.logTicks(yMin, yMax) : SVGLinePlot.niceTicks(yMin, yMax)
        xMin = min(xMin, xTicks.first ?? xMin); xMax = max(xMax, xTicks.last ?? xMax)
        if !logY { yMin = min(yMin, yTicks.first ?? yMin); yMax = max(yMax, yTicks.last ?? yMax) }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - yMin) / (yMax - yMin) * plotH }

        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15">\(SVGLinePlot.escape(title))</text>

        """
        for t in xTicks where t >= xMin && t <= xMax {
            out += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotH))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(SVGLinePlot.label(t))</text>\n"
        }
        for t in yTicks where t >= yMin - 1e-12 && t <= yMax + 1e-12 {
            let value = logY ? pow(10, t) : t
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(t)))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(SVGLinePlot.label(value))</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">\(SVGLinePlot.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(SVGLinePlot.escape(yLabel + (logY ? " (log)" : "")))</text>\n"
        for (index, s) in drawable.enumerated() {
            let color = SVGLinePlot.colors[index % SVGLinePlot.colors.count]
            let path = s.points.map { "\(f(px($0.x))),\(f(py(ty($0.y))))" }.joined(separator: " ")
            if s.points.count == 1, let p = s.points.first {
                out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(ty(p.y))))\" r=\"3\" fill=\"\(color)\"/>\n"
            } else if !s.points.isEmpty {
                out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            }
            let ly = top + 14 + Double(index) * 16
            out += "<line x1=\"\(f(left + plotW - 150))\" y1=\"\(f(ly - 4))\" x2=\"\(f(left + plotW - 130))\" y2=\"\(f(ly - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            out += "<text x=\"\(f(left + plotW - 124))\" y=\"\(f(ly))\">\(SVGLinePlot.escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    public func write(to path: String) throws(ProgressError) {
        do {
            try Data(svg().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .notWritable(path: path, reason: "\(error.localizedDescription)")
        }
    }

    private func ty(_ y: Double) -> Double { logY ? log10(y) : y }
    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Ticks at 1, 2 or 5 × 10ⁿ spacing covering [low, high], about five of them.
    static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        let span = max(high - low, 1e-12)
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = floor(low / step) * step
        return stride(from: first, through: high + step * 0.999, by: step).map { ($0 / step).rounded() * step }
    }

    /// Log-axis ticks (in log10 units) at each decade, with 2 and 5 when there are few decades.
    static func logTicks(_ low: Double, _ high: Double) -> [Double] {
        let decades = Array(Int(floor(low))...Int(ceil(high)))
        let multipliers: [Double] = decades.count <= 3 ? [1, 2, 5] : [1]
        return decades.flatMap { d in multipliers.map { log10($0) + Double(d) } }.filter { $0 >= low - 1e-9 && $0 <= high + 1e-9 }
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v) }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: a < 0.1 ? "%.3g" : "%.2f", v).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
