import ShoalWire
import XCTest
@testable import ShoalCoordinator

/// What the broker reports to its observer (the coordinator's metrics), the learner curves it
/// keeps, and the bounds of both: driven as a state machine, time passed in by hand.
final class CoordinatorMetricsTests: XCTestCase {
    final class Recorder: BrokerObserver {
        var services: [String] = []
        var events: [String] = []
        final class Service: ServiceObserver {
            let name: String
            unowned let recorder: Recorder
            init(_ name: String, _ recorder: Recorder) {
                self.name = name
                self.recorder = recorder
            }
            func arrived() { recorder.events.append("\(name) arrived") }
            func replied(milliseconds: Int64) { recorder.events.append("\(name) replied \(milliseconds)") }
            func failed(_ code: Shoal_V1_ReplyCode) { recorder.events.append("\(name) failed \(code.name)") }
            func requeued(_ count: Int) { recorder.events.append("\(name) requeued \(count)") }
        }
        func service(_ name: String) -> any ServiceObserver {
            services.append(name)
            return Service(name, self)
        }
        lazy var unserved: any ServiceObserver = Service("unserved", self)
    }

    func testServiceLabelsAreBoundedAndTheTextNamesEachSeries() {
        let metrics = CoordinatorMetrics()
        for i in 0..<(CoordinatorMetrics.maxLabels + 10) { metrics.service("s\(i)").arrived() }
        metrics.unserved.failed(.noSuchService)
        metrics.service("s0").replied(milliseconds: 3)
        metrics.service("s0").failed(.timeout)
        let text = metrics.text()
        XCTAssertTrue(text.contains(#"shoal_service_requests_total{service="s0"} 1"#), text)
        XCTAssertTrue(text.contains(#"shoal_service_requests_total{service="other"} 10"#), "names past the limit share one label")
        XCTAssertFalse(text.contains(#"service="s\#(CoordinatorMetrics.maxLabels)""#))
        XCTAssertTrue(text.contains(#"shoal_service_errors_total{service="s0",code="timeout"} 1"#), text)
        XCTAssertTrue(text.contains(#"shoal_service_errors_total{service="unserved",code="no_such_service"} 1"#), text)
        XCTAssertTrue(text.contains(#"shoal_service_request_duration_seconds_bucket{service="s0",le="0.005"} 1"#), text)
        XCTAssertTrue(text.contains(#"shoal_service_request_duration_seconds_bucket{service="s0",le="0.002"} 0"#), text)
    }

    func testWorkerVersionSeriesFollowTheWorkersAndGoWithThem() {
        let metrics = CoordinatorMetrics()
        var status = Shoal_V1_ClusterStatus()
        var w = Shoal_V1_ClusterStatus.Worker()
        (w.workerID, w.service, w.agent, w.modelVersion) = ("m-1", "math", "math", "v1")
        status.workers = [w]
        metrics.refresh(status)
        XCTAssertTrue(metrics.text().contains(#"shoal_worker_model_info{worker="m-1",service="math",agent="math",version="v1"} 1"#))
        status.workers[0].modelVersion = "v2"
        metrics.refresh(status)
        XCTAssertFalse(metrics.text().contains(#"version="v1""#), "a swapped-out version's series is dropped")
        XCTAssertTrue(metrics.text().contains(#"version="v2"} 1"#))
        status.workers = []
        metrics.refresh(status)
        XCTAssertFalse(metrics.text().contains("shoal_worker_model_info{"), "a worker that left has no series")
    }

    func testLearnerReportsAreCheckedByNameAndCurvesAreBounded() throws {
        XCTAssertThrowsError(try LearnerReport(params: ["step": "1"])) { XCTAssertTrue("\($0)".contains("'agent'")) }
        XCTAssertThrowsError(try LearnerReport(params: ["agent": "a", "step": "-1"])) { XCTAssertTrue("\($0)".contains("'step'")) }
        XCTAssertThrowsError(try LearnerReport(params: ["agent": "a", "step": "1", "kl": "nan"])) { XCTAssertTrue("\($0)".contains("'kl'")) }
        XCTAssertThrowsError(try LearnerReport(params: ["agent": "a", "step": "1", "reward_mean": "lots"])) { XCTAssertTrue("\($0)".contains("'reward_mean'")) }
        XCTAssertThrowsError(try LearnerReport(params: ["agent": "a", "step": "1", "heldout_pass_at_1": "2"])) { XCTAssertTrue("\($0)".contains("within 0 and 1")) }
        let r = try LearnerReport(params: ["agent": "a", "step": "2", "reward_mean": "0.5", "kl": "0.01"])
        XCTAssertEqual(r, LearnerReport(agent: "a", step: 2, rewardMean: 0.5, kl: 0.01))
        XCTAssertEqual(try LearnerReport(params: r.params), r, "params round-trip")

        var curves = LearnerCurves()
        for step in 0..<(LearnerCurves.maxPoints + 5) { curves.record(LearnerReport(agent: "a", step: step, rewardMean: 1)) }
        XCTAssertEqual(curves.runs["a"]?.count, LearnerCurves.maxPoints)
        XCTAssertEqual(curves.runs["a"]?.first?.step, 5, "the oldest points go first")
        curves.record(LearnerReport(agent: "a", step: 0, heldOutPassAtOne: 0.3))
        XCTAssertEqual(curves.runs["a"]?.count, 1, "a step below the last starts a new run")
        for i in 0..<LearnerCurves.maxAgents { curves.record(LearnerReport(agent: "x\(i)", step: 0)) }
        XCTAssertEqual(curves.runs.count, LearnerCurves.maxAgents)
        XCTAssertNil(curves.runs["a"], "the agent heard from longest ago goes first")

        let metrics = CoordinatorMetrics()
        var two = LearnerCurves()
        two.record(LearnerReport(agent: "tools", step: 4, rewardMean: 0.7, rewardStd: 0.2, kl: 0.03))
        two.record(LearnerReport(agent: "tools", step: 4, heldOutPassAtOne: 0.61))
        metrics.refresh(two)
        let text = metrics.text()
        XCTAssertTrue(text.contains(#"shoal_learner_reward_mean{agent="tools"} 0.7"#), "the last value reported for each gauge\n\(text)")
        XCTAssertTrue(text.contains(#"shoal_learner_heldout_pass_at_1{agent="tools"} 0.61"#), text)
        XCTAssertTrue(text.contains(#"shoal_learner_step{agent="tools"} 4"#), text)
    }
}

extension BrokerTests {
    func testTheBrokerReportsArrivalsLatencyErrorsByCodeAndRequeues() {
        let recorder = CoordinatorMetricsTests.Recorder()
        var b = makeBroker { $0.queueLimit = 1 }
        b.observer = recorder
        // Asked for before any worker serves it: counted as unserved, never a label of its own.
        _ = request(&b, id: 1, now: 0)
        XCTAssertEqual(recorder.events, ["unserved arrived"])
        XCTAssertEqual(recorder.services, [])
        let taken = dispatched(ready(&b, "w1", now: 5))
        XCTAssertEqual(taken.map(\.0), ["w1"], "w1 takes request 1 when it registers")
        XCTAssertEqual(recorder.services, ["echo"], "a label once a worker registers")
        XCTAssertTrue(dispatched(request(&b, id: 2, now: 10)).isEmpty, "w1 is busy")
        _ = reply(&b, from: "w1", key: taken[0].1, now: 30)
        XCTAssertEqual(recorder.events.suffix(2), ["echo arrived", "echo replied 30"], "the queued request 2 goes to w1 next")
        // One at the worker (2), one queued (3), a fourth over the queue limit.
        _ = request(&b, id: 3, now: 40)
        XCTAssertEqual(clientReplies(request(&b, id: 4, now: 40)).map(\.code), [.overloaded])
        XCTAssertEqual(recorder.events.suffix(3), ["echo arrived", "echo arrived", "echo failed overloaded"])
        // The worker goes silent: its request is requeued, then both time out with no worker left.
        var out: [BrokerAction] = []
        b.tick(now: 400, into: &out)
        XCTAssertEqual(recorder.events.last, "echo requeued 1")
        _ = request(&b, service: "nobody", id: 5, now: 400)
        b.tick(now: 1000, into: &out)
        XCTAssertEqual(recorder.events.filter { $0 == "echo failed no_such_service" }.count, 2, "\(recorder.events)")
        XCTAssertEqual(recorder.events.filter { $0 == "unserved failed no_such_service" }.count, 1, "\(recorder.events)")
        XCTAssertEqual(recorder.services, ["echo"])
    }
}
