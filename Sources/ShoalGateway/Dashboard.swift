import Foundation
import ShoalClient
import ShoalWire

/// What the dashboard shows, read from the coordinator in one go: its status (workers,
/// services, swaps), the recent tasks with their steps, and the learners' curves.
struct DashboardData: Sendable {
    struct Task: Sendable {
        var id: String
        var status: String
        var verified: String
        var createdAt: Date
        var steps: [Step]
    }

    struct Step: Sendable {
        var id: String
        var status: String
        var workerId: String
        var modelVersion: String
        var latencyMs: Double
        var reward: Double?
        var verdict: String?
        var error: String?
    }

    struct Point: Sendable {
        var step: Int
        var rewardMean: Double?
        var heldOut: Double?
    }

    var status: Shoal_V1_ClusterStatus
    var tasks: [Task] = []
    var curves: [String: [Point]] = [:]
    /// Requests a second per service, from the change since the last look.
    var rates: [String: Double] = [:]
    /// What could not be read (shown, not hidden: a part missing says why).
    var problems: [String] = []

    static let recentTasks = 10

    /// The coordinator's status and the learners' curves.
    static func read(_ client: Client) throws -> DashboardData {
        var data = DashboardData(status: try client.status())
        do {
            let agents = try client.learnerCurves()["agents"] as? [String: [[String: Any]]] ?? [:]
            for (agent, points) in agents {
                data.curves[agent] = points.map { Point(step: $0["step"] as? Int ?? 0, rewardMean: $0["reward_mean"] as? Double,
                                                        heldOut: $0["heldout_pass_at_1"] as? Double) }
            }
        } catch {
            data.problems.append("learner curves: \(error)")
        }
        return data
    }

    /// The most recent tasks `keep` keeps, each with its steps; or why they could not be read.
    static func tasks(_ client: Client, keep: @Sendable (String) -> Bool) -> (tasks: [Task], problem: String?) {
        var tasks: [Task] = []
        do {
            for entry in try client.tasks(.init(limit: 200)).filter({ keep($0.id) }).prefix(recentTasks) {
                var task = Task(id: entry.id, status: entry.status, verified: "", createdAt: entry.createdAt, steps: [])
                let got = try client.call(skill: TaskService.name, input: entry.id, params: [TaskService.actionParam: "get"], timeoutMs: 5000)
                if got.ok, let json = try? JSONSerialization.jsonObject(with: Data(got.output.utf8)) as? [String: Any] {
                    task.verified = json["verified"] as? String ?? ""
                    task.steps = (json["steps"] as? [[String: Any]] ?? []).map { s in
                        Step(id: s["id"] as? String ?? "?", status: s["status"] as? String ?? "?", workerId: s["worker_id"] as? String ?? "",
                             modelVersion: s["model_version"] as? String ?? "", latencyMs: Double(s["latency_us"] as? Int ?? 0) / 1000,
                             reward: s["reward"] as? Double, verdict: s["verdict"] as? String, error: s["error"] as? String)
                    }
                }
                tasks.append(task)
            }
            return (tasks, nil)
        } catch {
            return (tasks, "tasks: \(error)")
        }
    }
}

/// The last rendering of the live part per scope (a client key's name, "admin", or "" without
/// keys), served again while under `maxAgeSeconds` old. Bounded by the API keys there are.
final class DashboardCache: @unchecked Sendable {
    static let maxAgeSeconds = 1.0
    private let lock = NSLock()
    private var entries: [String: (at: Double, html: String)] = [:]

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    func fresh(_ scope: String) -> String? {
        lock.withLock { entries[scope].flatMap { Self.now() - $0.at < Self.maxAgeSeconds ? $0.html : nil } }
    }

    func store(_ html: String, for scope: String) { lock.withLock { entries[scope] = (Self.now(), html) } }
}

/// Requests a second per service: each look compares the services' answered counts with the
/// previous look's (at least half a second before; a quicker look reuses the last rates).
final class ServiceRates: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (at: Double, counts: [String: UInt64])?
    private var rates: [String: Double] = [:]

    func update(_ status: Shoal_V1_ClusterStatus, now: Double = Double(DispatchTime.now().uptimeNanoseconds) / 1e9) -> [String: Double] {
        let counts = Dictionary(status.services.map { ($0.name, $0.completed + $0.failed) }, uniquingKeysWith: { a, _ in a })
        return lock.withLock {
            if let last, now - last.at < 0.5 { return rates }
            if let last {
                let dt = now - last.at
                rates = counts.mapValues { _ in 0 }
                for (name, n) in counts {
                    // A count that fell (the coordinator restarted, the service was forgotten) starts again from 0.
                    let before = last.counts[name] ?? n
                    rates[name] = Double(n >= before ? n - before : n) / dt
                }
            }
            last = (now, counts)
            return rates
        }
    }
}

/// The dashboard's HTML: server-rendered, every value escaped; `dashboard.js` refreshes the
/// live part every two seconds.
enum DashboardPage {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// The whole page; `live` is the first rendering of the live part, or nil when the browser
    /// must ask for it with its key (`/#key=…`).
    static func page(live: String?) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Shoal cluster</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2733; background: #f7f9fb; }
        h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
        table { border-collapse: collapse; background: #fff; } th, td { padding: .25em .7em; border-bottom: 1px solid #e3e8ee; text-align: left; }
        th { background: #eef2f6; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
        .ok { color: #17803d; } .bad { color: #b42318; } .warn { color: #b54708; } .muted { color: #667085; }
        .steps span { display: inline-block; margin: 0 .4em .2em 0; padding: 0 .4em; border-radius: 3px; background: #eef2f6; }
        .curves { display: flex; flex-wrap: wrap; gap: 1em; } .curves figure { margin: 0; background: #fff; padding: .5em; }
        #state { color: #667085; }
        </style></head>
        <body>
        <h1>Shoal cluster</h1>
        <div id="state">\(live == nil ? "waiting for data: open this page as /#key=YOUR_API_KEY" : "live")</div>
        <div id="live">\(live ?? "")</div>
        <script src="/dashboard.js"></script>
        </body></html>
        """
    }

    static let script = """
        (function () {
          var m = location.hash.match(/key=([^&]+)/);
          if (m) { sessionStorage.setItem("shoal-key", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
          var key = sessionStorage.getItem("shoal-key");
          var state = document.getElementById("state"), live = document.getElementById("live");
          function refresh() {
            fetch("/dashboard/live", { headers: key ? { "Authorization": "Bearer " + key } : {} }).then(function (r) {
              return r.text().then(function (t) {
                if (r.ok) { live.innerHTML = t; state.textContent = "live · updated " + new Date().toLocaleTimeString(); }
                else { state.textContent = "HTTP " + r.status + (r.status === 401 ? ": open this page as /#key=YOUR_API_KEY" : ""); }
              });
            }).catch(function (e) { state.textContent = "no answer from the gateway: " + e; })
              .then(function () { setTimeout(refresh, 2000); });  // the next look only once this one is answered
          }
          refresh();
        })();
        """

    /// The live part: cluster, workers, services, swaps, learner curves, recent tasks.
    static func live(_ d: DashboardData) -> String {
        let s = d.status
        var h = "<p>coordinator <b>\(escape(s.endpoint))</b> · \(escape(s.security)) · up \(duration(s.uptimeSeconds)) · "
            + "\(s.requestsTotal) requests, \(s.repliesTotal) replies, \(s.errorsTotal) errors, \(s.requeued) requeued</p>"
        for p in d.problems { h += "<p class=\"bad\">\(escape(p))</p>" }

        h += "<h2>Workers (\(s.workers.count))</h2><table id=\"workers\"><tr><th>worker</th><th>skill</th><th>agent</th><th>version</th><th>load</th><th>done</th><th>health</th><th>swap</th></tr>"
        for w in s.workers {
            let health = w.idleSeconds < 3 ? "<span class=\"ok\">alive</span>" : "<span class=\"warn\">quiet \(String(format: "%.1f", w.idleSeconds)) s</span>"
            h += "<tr class=\"worker\" data-worker=\"\(escape(w.workerID))\"><td>\(escape(w.workerID))</td><td>\(escape(w.service))</td><td>\(escape(w.agent))</td>"
                + "<td>\(escape(w.modelVersion.isEmpty ? "—" : w.modelVersion))</td><td class=\"n\">\(w.inFlight)/\(w.capacity)</td><td class=\"n\">\(w.completed)</td>"
                + "<td>\(health)</td><td>\(escape(w.swapState))</td></tr>"
        }
        h += "</table>"

        h += "<h2>Services</h2><table id=\"services\"><tr><th>service</th><th>workers</th><th>queued</th><th>in flight</th><th>done</th><th>failed</th><th>req/s</th></tr>"
        for v in s.services {
            h += "<tr><td>\(escape(v.name))</td><td class=\"n\">\(v.workers)</td><td class=\"n\">\(v.queued)/\(v.queueLimit)</td><td class=\"n\">\(v.inFlight)</td>"
                + "<td class=\"n\">\(v.completed)</td><td class=\"n\">\(v.failed)</td><td class=\"n\">\(String(format: "%.1f", d.rates[v.name] ?? 0))</td></tr>"
        }
        h += "</table>"

        h += "<h2>Swaps</h2>"
        if s.swaps.isEmpty {
            h += "<p class=\"muted\">none yet</p>"
        } else {
            h += "<table id=\"swaps\"><tr><th>agent</th><th>from → to</th><th>strategy</th><th>state</th><th>time</th><th>last event</th></tr>"
            for p in s.swaps {
                let cls = p.state == "succeeded" ? "ok" : p.state == "failed" ? "bad" : "warn"
                h += "<tr><td>\(escape(p.agent))</td><td>\(escape(p.fromVersion)) → \(escape(p.toVersion))</td><td>\(escape(p.strategy))</td>"
                    + "<td class=\"\(cls)\">\(escape(p.state))</td><td class=\"n\">\(String(format: "%.2f", p.elapsedSeconds)) s</td>"
                    + "<td>\(escape(p.events.last ?? ""))</td></tr>"
            }
            h += "</table>"
        }

        h += "<h2>Learner runs</h2>"
        if d.curves.isEmpty {
            h += "<p class=\"muted\">no learner has reported (shoal learner, shoal train grpo)</p>"
        } else {
            h += "<div class=\"curves\">"
            for agent in d.curves.keys.sorted() { h += "<figure class=\"curve\" data-agent=\"\(escape(agent))\">\(curve(agent, d.curves[agent]!))</figure>" }
            h += "</div>"
        }
        h += "<h2>Recent tasks</h2>"
        if d.tasks.isEmpty {
            h += "<p class=\"muted\">none this key may see</p>"
        } else {
            h += "<table id=\"tasks\"><tr><th>task</th><th>status</th><th>verified</th><th>steps</th></tr>"
            for t in d.tasks {
                let cls = t.status == "succeeded" ? "ok" : t.status == "running" ? "warn" : "bad"
                let steps = t.steps.map { st -> String in
                    var parts = [st.id, st.status]
                    if !st.workerId.isEmpty { parts.append(st.workerId + (st.modelVersion.isEmpty ? "" : ", model " + st.modelVersion)) }
                    parts.append(String(format: "%.1f ms", st.latencyMs))
                    if let r = st.reward { parts.append("reward \(String(format: "%.2f", r))\(st.verdict.map { " (\($0))" } ?? "")") }
                    if let e = st.error { parts.append(e) }
                    return "<span>\(escape(parts.joined(separator: " · ")))</span>"
                }.joined()
                h += "<tr class=\"task\" data-task=\"\(escape(t.id))\"><td>\(escape(t.id))</td><td class=\"\(cls)\">\(escape(t.status))</td>"
                    + "<td>\(escape(t.verified))</td><td class=\"steps\">\(steps)</td></tr>"
            }
            h += "</table>"
        }

        return h
    }

    /// Reward mean (line) and held-out pass@1 (dots joined) against the step, both on 0…1 or the
    /// rewards' own range when it leaves it.
    static func curve(_ agent: String, _ points: [DashboardData.Point]) -> String {
        let (w, ht, pad) = (360.0, 180.0, 30.0)
        let maxStep = Double(max(1, points.map(\.step).max() ?? 1))
        let values = points.compactMap(\.rewardMean) + points.compactMap(\.heldOut) + [0, 1]
        let (lo, hi) = (values.min()!, values.max()!)
        func x(_ step: Int) -> Double { pad + Double(step) / maxStep * (w - 2 * pad) }
        func y(_ v: Double) -> Double { ht - pad - (v - lo) / max(hi - lo, 1e-9) * (ht - 2 * pad) }
        func line(_ pts: [(Int, Double)]) -> String { pts.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ") }
        let reward = points.compactMap { p in p.rewardMean.map { (p.step, $0) } }
        let heldOut = points.compactMap { p in p.heldOut.map { (p.step, $0) } }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(ht))\" viewBox=\"0 0 \(Int(w)) \(Int(ht))\" role=\"img\" aria-label=\"\(escape(agent)) learner curves\">"
        svg += "<text x=\"\(pad)\" y=\"16\" font-weight=\"600\">\(escape(agent))</text>"
        svg += "<line x1=\"\(pad)\" y1=\"\(ht - pad)\" x2=\"\(w - pad)\" y2=\"\(ht - pad)\" stroke=\"#98a2b3\"/><line x1=\"\(pad)\" y1=\"\(pad)\" x2=\"\(pad)\" y2=\"\(ht - pad)\" stroke=\"#98a2b3\"/>"
        svg += "<text x=\"\(pad - 4)\" y=\"\(y(hi) + 4)\" font-size=\"10\" text-anchor=\"end\">\(String(format: "%.2g", hi))</text>"
        svg += "<text x=\"\(pad - 4)\" y=\"\(y(lo) + 4)\" font-size=\"10\" text-anchor=\"end\">\(String(format: "%.2g", lo))</text>"
        svg += "<text x=\"\(w - pad)\" y=\"\(ht - pad + 14)\" font-size=\"10\" text-anchor=\"end\">step \(Int(maxStep))</text>"
        if reward.count > 1 { svg += "<polyline fill=\"none\" stroke=\"#2e90fa\" stroke-width=\"1.5\" points=\"\(line(reward))\"/>" }
        if heldOut.count > 1 { svg += "<polyline fill=\"none\" stroke=\"#f79009\" stroke-width=\"1.5\" points=\"\(line(heldOut))\"/>" }
        for (step, v) in heldOut { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#f79009\"/>", x(step), y(v)) }
        let lastReward = reward.last.map { String(format: "%.3f", $0.1) } ?? "—"
        let lastHeld = heldOut.last.map { String(format: "%.3f", $0.1) } ?? "—"
        svg += "<text x=\"\(pad)\" y=\"\(ht - 6)\" font-size=\"11\"><tspan fill=\"#2e90fa\">reward mean \(lastReward)</tspan>"
            + "<tspan fill=\"#f79009\" dx=\"12\">held-out pass@1 \(lastHeld)</tspan></text></svg>"
        return svg
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 120 ? String(format: "%.0f s", seconds) : seconds < 7200 ? String(format: "%.0f min", seconds / 60) : String(format: "%.1f h", seconds / 3600)
    }
}
