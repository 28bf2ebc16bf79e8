import Foundation
import ShoalClient
import ShoalVerifiers
import ShoalWire
import XCTest
import ZeroMQ
@testable import ShoalRL

/// A model-backed worker reduced to its data contract, speaking 18/MDP to a real coordinator:
/// it answers every request with the same three tokens, in the typed field (param `form:
/// typed`), as the metadata text of a worker older than that field (`form: text`), or not at
/// all (`form: silent`, so a task stays running).
final class TokenWorker: @unchecked Sendable {
    static let tokens = Shoal_V1_SampledTokens(tokenIds: [7, 8, 9], logprobs: [-0.5, -0.25, -1.125], finishReason: "stop", logprobTemperature: 1)
    static let text = ["token_ids": "7,8,9", "logprobs": "-0.500000,-0.250000,-1.125000", "finish_reason": "stop"]
    static let version = "v-tokens"

    // `running` and `failure` are guarded by `lock`; the socket lives on the worker's own thread.
    private let lock = NSLock()
    private var running = true
    private var failure: Error?

    init(endpoint: String, service: String, security: Security) {
        let thread = Thread { self.serve(endpoint: endpoint, service: service, security: security) }
        thread.start()
    }

    var error: Error? { lock.withLock { failure } }

    func stop() { lock.withLock { running = false } }

    private func serve(endpoint: String, service: String, security: Security) {
        do {
            let context = try Context()
            let socket = try context.socket(.dealer)
            defer { socket.close() }
            try security.apply(to: socket)
            try socket.connect(endpoint)
            var info = Shoal_V1_WorkerInfo()
            info.workerID = "tokens-1"
            info.agent = service
            info.skills = [service]
            info.modelVersion = Self.version
            info.capacity = 8
            _ = try socket.send([MDP.workerV2, [WorkerCommandCode.ready(.v2)], Array(service.utf8), try info.serializedBytes()])
            var beat = Date()
            while lock.withLock({ running }) {
                var poller = Poller()
                poller.add(socket)
                // [MDPW02, REQUEST, client, "", content-type, RequestHeader, SubTask]
                if try !poller.poll(timeoutMs: 100).isEmpty, let frames = try socket.receive(dontWait: true),
                   frames.count >= 7, frames[1] == [WorkerCommandCode.request(.v2)] {
                    let request = try Shoal_V1_RequestHeader(serializedBytes: frames[5])
                    let task = try Shoal_V1_SubTask(serializedBytes: frames[6])
                    var header = Shoal_V1_ReplyHeader()
                    header.requestID = request.requestID
                    header.workerID = info.workerID
                    header.modelVersion = Self.version
                    var result = Shoal_V1_SubTaskResult()
                    result.output = "7"
                    if task.params["form"] == "typed" { result.tokens = Self.tokens }
                    if task.params["form"] == "text" { result.metadata = Self.text }
                    if task.params["form"] != "silent" {
                        _ = try socket.send([MDP.workerV2, [WorkerCommandCode.final(.v2)], frames[2], []] + ShoalBody.reply(header: header, result: result))
                    }
                }
                if Date().timeIntervalSince(beat) > 0.3 {
                    _ = try socket.send([MDP.workerV2, [WorkerCommandCode.heartbeat(.v2)]])
                    beat = Date()
                }
            }
        } catch {
            lock.withLock { failure = error }
        }
    }
}

/// The learner's data contract end to end: a worker's tokens, typed or as an older worker's
/// text, through a real coordinator, straight to the learner and through a task step's record.
final class SampledTokensClusterTests: XCTestCase {
    func testTypedAndOlderTextTokensReachTheLearnerAsTheSameValuesDirectlyAndThroughTaskRecords() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        let worker = TokenWorker(endpoint: ep, service: "sampler", security: try h.security("worker"))
        defer { worker.stop() }
        try h.waitForWorkers(ep, count: 1)
        let client = try h.client(ep)

        // Straight from the worker, as `ClusterRolloutSource` samples.
        var direct: [String: SampledCompletion] = [:]
        for form in ["typed", "text"] {
            let reply = try client.call(skill: "sampler", input: "x", params: ["form": form, "temperature": "1"], timeoutMs: 10_000)
            XCTAssertEqual(reply.tokens != nil, form == "typed", "\(reply)")
            direct[form] = try ClusterRolloutSource.parse(reply, skill: "sampler", promptTokens: [1], temperature: 1)
        }
        XCTAssertEqual(direct["typed"]?.completionTokens, [7, 8, 9])
        XCTAssertEqual(direct["typed"]?.logProbs, [-0.5, -0.25, -1.125])
        XCTAssertEqual(direct["typed"]?.modelVersion, TokenWorker.version)
        XCTAssertEqual(direct["typed"], direct["text"])

        // Through a task step that records its tokens, as `TaskRolloutSource` re-runs tasks.
        let task = try XCTUnwrap(TaskRolloutSource.select([(id: "say", text: Self.spec(id: "say", form: "typed"))], skill: "sampler").first)
        var rollouts: [String: [Rollout]] = [:]
        for form in ["typed", "text"] {
            let reply = try client.call(skill: TaskService.name, input: Self.spec(id: "say-\(form)", form: form), timeoutMs: 10_000)
            XCTAssertTrue(reply.ok, reply.message)
            let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.output.utf8)) as? [String: Any])
            let step = try XCTUnwrap((result["steps"] as? [[String: Any]])?.first)
            let recorded = try XCTUnwrap(step["recorded"] as? [String: Any])
            // The coordinator records typed tokens as JSON arrays and carries an older worker's text as it came.
            XCTAssertEqual(recorded["token_ids"] is [Any], form == "typed", "\(recorded)")
            XCTAssertEqual(recorded["input"] as? String, "Write 7")
            rollouts[form] = try TaskRolloutSource.rollouts(ofRun: result, task: task, runID: "say-\(form)", groupPrefix: "g", temperature: 1,
                                                            module: RewardModule(), naming: VersionNaming(prefix: "t-", baseName: TokenWorker.version)) { ($0, [1]) }
        }
        XCTAssertEqual(rollouts["typed"]?.map(\.completionTokens), [[7, 8, 9]])
        XCTAssertEqual(rollouts["typed"]?.map(\.samplingLogProbs), [[-0.5, -0.25, -1.125]])
        XCTAssertEqual(rollouts["typed"], rollouts["text"])
        XCTAssertNil(worker.error)
    }

    static func spec(id: String, form: String) -> String {
        """
        id: \(id)
        steps:
          - {id: say, skill: sampler, input: "Write 7", params: {record_tokens: "true", form: \(form)}, verifier: {kind: math, answer: "7"}}
        """
    }
}
