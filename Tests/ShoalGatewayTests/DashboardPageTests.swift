import ShoalWire
import XCTest
@testable import ShoalGateway

/// The dashboard's HTML from a status snapshot: every value the network chose is escaped, and
/// each part (workers, services, swaps, tasks, curves) is rendered.
final class DashboardPageTests: XCTestCase {
    func testEveryValueIsEscapedAndEachPartIsRendered() {
        var status = Shoal_V1_ClusterStatus()
        status.endpoint = "tcp://127.0.0.1:5555"
        var w = Shoal_V1_ClusterStatus.Worker()
        (w.workerID, w.service, w.agent, w.modelVersion, w.capacity, w.inFlight) = ("<script>alert(1)</script>", "calc\"ulator", "a&b", "v'1", 4, 1)
        status.workers = [w]
        var s = Shoal_V1_ClusterStatus.Service()
        (s.name, s.workers, s.queued, s.queueLimit, s.completed) = ("<b>calc</b>", 1, 2, 100, 7)
        status.services = [s]
        var p = Shoal_V1_SwapProgress()
        (p.agent, p.fromVersion, p.toVersion, p.state, p.events) = ("math", "v1", "v2<", "running", ["switched <m-1>"])
        status.swaps = [p]
        var data = DashboardData(status: status)
        data.rates = ["<b>calc</b>": 12.5]
        data.tasks = [.init(id: "t<1>", status: "succeeded", verified: "<v>", createdAt: Date(),
                            steps: [.init(id: "a", status: "succeeded", workerId: "w\"1", modelVersion: "v2", latencyMs: 1.25, reward: 1, verdict: "correct"),
                                    .init(id: "<b>", status: "failed", workerId: "", modelVersion: "", latencyMs: 0, error: "bad <input>")])]
        data.curves = ["tools": [.init(step: 0, heldOut: 0.5), .init(step: 1, rewardMean: 0.4), .init(step: 2, rewardMean: 0.6, heldOut: 0.55)],
                       "<img>": [.init(step: 0, rewardMean: 0.1)]]
        data.problems = ["tasks: <refused>"]
        let html = DashboardPage.live(data)
        for raw in ["<script>alert", "calc\"ulator", "<b>calc", "v2<", "t<1>", "w\"1", "<refused>", "<m-1>", "<v>", "<b> ", "<input>", "<img>"] {
            XCTAssertFalse(html.contains(raw), "\(raw) must be escaped")
        }
        for escaped in ["&lt;script&gt;alert(1)&lt;/script&gt;", "calc&quot;ulator", "a&amp;b", "v&#39;1", "&lt;b&gt;calc&lt;/b&gt;", "v2&lt;",
                        "data-task=\"t&lt;1&gt;\"", "tasks: &lt;refused&gt;", "switched &lt;m-1&gt;", "<td>&lt;v&gt;</td>",
                        "&lt;b&gt; · failed", "bad &lt;input&gt;", "data-agent=\"&lt;img&gt;\""] {
            XCTAssertTrue(html.contains(escaped), "\(escaped) missing")
        }
        XCTAssertTrue(html.contains("<td class=\"n\">1/4</td>"), "load: in flight of capacity")
        XCTAssertTrue(html.contains("<td class=\"n\">2/100</td>"), "queued of the queue limit")
        XCTAssertTrue(html.contains(">12.5<"), "the service's rate")
        XCTAssertTrue(html.contains("reward 1.00 (correct)"))
        XCTAssertTrue(html.contains("data-agent=\"tools\""))
        XCTAssertEqual(html.components(separatedBy: "<polyline").count - 1, 2, "a reward line and a held-out line")
        XCTAssertEqual(html.components(separatedBy: "<circle").count - 1, 2, "a dot per held-out evaluation")
        XCTAssertTrue(html.contains("held-out pass@1 0.550"))
        // The page around it loads only its own script.
        let page = DashboardPage.page(live: nil)
        XCTAssertTrue(page.contains("<script src=\"/dashboard.js\"></script>"))
        XCTAssertTrue(page.contains("/#key=YOUR_API_KEY"))
    }

    func testRatesComeFromTheChangeSinceTheLastLook() {
        let rates = ServiceRates()
        var status = Shoal_V1_ClusterStatus()
        var s = Shoal_V1_ClusterStatus.Service()
        (s.name, s.completed, s.failed) = ("calc", 10, 0)
        status.services = [s]
        XCTAssertEqual(rates.update(status, now: 100), [:], "nothing to compare with yet")
        status.services[0].completed = 30
        status.services[0].failed = 2
        XCTAssertEqual(rates.update(status, now: 102)["calc"], 11, "22 answered in 2 s")
        status.services[0].completed = 1000
        XCTAssertEqual(rates.update(status, now: 102.1)["calc"], 11, "a look within half a second reuses the last rates")
        status.services[0].completed = 4
        status.services[0].failed = 0
        XCTAssertEqual(rates.update(status, now: 103)["calc"], 4, "a count that fell (a restarted coordinator) starts again from 0")
    }
}
