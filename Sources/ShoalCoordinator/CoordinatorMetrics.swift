import Foundation
import Prometheus
import ShoalWire

/// The coordinator's Prometheus metrics (`shoal coordinator --metrics-bind`): per service,
/// requests, errors by code, latency, requeues, queue depth, in-flight requests and live workers;
/// the version each worker serves; swaps by outcome; task outcomes; verified steps' rewards by
/// agent; and what learners report (reward mean and std, KL, held-out pass@1).
///
/// Counters and histograms are recorded as things happen, on the coordinator's loop thread:
/// per request, atomics and one uncontended lock per reply, through handles made once per
/// service; per task, swap or verified step, a registry lookup. Gauges are set from the broker's
/// status at most once a second (`refresh`). The registry is read from the HTTP listener's
/// thread. A service gets a label of its own only once a worker registers for it (requests for
/// others count as "unserved"), and names become labels only up to `maxLabels` of each kind;
/// the rest share "other". So a client inventing service names cannot grow the registry or take
/// the labels of services that come later.
public final class CoordinatorMetrics: BrokerObserver, @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    public static let maxLabels = 256
    /// Request latency buckets, seconds: the broker's clock counts whole milliseconds.
    static let latencyBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                             .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                             .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(120)]
    static let rewardBuckets: [Double] = [-1, -0.5, 0, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 2]

    // Loop thread only.
    private var services: [String: Metrics] = [:]
    private var agents: Set<String> = []
    private var workerInfo: [[String]: Gauge] = [:]
    private var gaugedServices: Set<String> = []
    private var lastCounters = Broker.Counters()

    public init() {}

    /// `name`, or "other" once `maxLabels` names of its kind are in use.
    private func bounded(_ name: String, in used: inout Set<String>) -> String {
        if used.contains(name) { return name }
        guard used.count < Self.maxLabels else { return "other" }
        used.insert(name)
        return name
    }

    /// Requests for services no worker has registered for (typos, scans, or a worker not up yet).
    public private(set) lazy var unserved: any ServiceObserver = Metrics(registry: registry, service: "unserved")

    public func service(_ name: String) -> any ServiceObserver {
        let label = services[name] != nil || services.count < Self.maxLabels ? name : "other"
        if let m = services[label] { return m }
        let m = Metrics(registry: registry, service: label)
        services[label] = m
        return m
    }

    /// One service's handles, made once: the hot path never looks a label up.
    final class Metrics: ServiceObserver {
        let requests: Counter
        let latency: DurationHistogram
        let requeues: Counter
        let registry: PrometheusCollectorRegistry
        let service: String
        var errors: [Shoal_V1_ReplyCode: Counter] = [:]

        init(registry: PrometheusCollectorRegistry, service: String) {
            self.registry = registry
            self.service = service
            requests = registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "service", metricName: "requests", unitName: "total",
                                                              helpText: "Requests clients sent to the service."), labels: [("service", service)])
            latency = registry.makeDurationHistogram(descriptor: .init(namespace: "shoal", subsystem: "service", metricName: "request_duration", unitName: "seconds",
                                                                       helpText: "From a request's arrival at the coordinator to its worker's answer (whole milliseconds)."),
                                                     labels: [("service", service)], buckets: CoordinatorMetrics.latencyBuckets)
            requeues = registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "service", metricName: "requeues", unitName: "total",
                                                              helpText: "In-flight requests put back in the queue because their worker went away."),
                                            labels: [("service", service)])
        }

        func arrived() { requests.increment() }
        func replied(milliseconds: Int64) { latency.record(.milliseconds(milliseconds)) }
        func requeued(_ count: Int) { requeues.increment(by: Int64(count)) }
        func failed(_ code: Shoal_V1_ReplyCode) {
            if let c = errors[code] { c.increment(); return }
            let c = registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "service", metricName: "errors", unitName: "total",
                                                           helpText: "Requests the coordinator answered with an error, by code."),
                                         labels: [("service", service), ("code", code.name)])
            errors[code] = c
            c.increment()
        }
    }

    // MARK: events the coordinator sees

    /// A swap ended: `succeeded`, `failed` or `rolled_back`.
    public func swapEnded(agent: String, outcome: String) {
        registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "swaps", metricName: "finished", unitName: "total",
                                               helpText: "Live swaps that ended, by agent and outcome."),
                             labels: [("agent", bounded(agent, in: &agents)), ("outcome", outcome)]).increment()
    }

    /// A multi-step task finished.
    public func taskFinished(_ status: TaskStatus) {
        registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "tasks", metricName: "finished", unitName: "total",
                                               helpText: "Multi-step tasks that finished, by status."),
                             labels: [("status", status.rawValue)]).increment()
    }

    /// A task step's verifier scored its output.
    public func stepRewarded(agent: String, reward: Double) {
        registry.makeValueHistogram(descriptor: .init(namespace: "shoal", subsystem: "step", metricName: "reward",
                                                      helpText: "Rewards of verified task steps, by the agent (skill) that served them."),
                                    labels: [("agent", bounded(agent, in: &agents))], buckets: Self.rewardBuckets).record(reward)
    }

    /// Learners' latest reports: each gauge holds the last value reported for it.
    public func refresh(_ learners: LearnerCurves) {
        for (name, points) in learners.runs {
            guard let last = points.last else { continue }
            let agent = bounded(name, in: &agents)
            func gauge(_ metric: String, _ help: String, _ value: Double?) {
                guard let value else { return }
                registry.makeGauge(descriptor: .init(namespace: "shoal", subsystem: "learner", metricName: metric, helpText: help),
                                   labels: [("agent", agent)]).set(value)
            }
            gauge("step", "The learner's last reported GRPO step.", Double(last.step))
            gauge("reward_mean", "Mean reward of the learner's last step.", points.last { $0.rewardMean != nil }?.rewardMean)
            gauge("reward_std", "Standard deviation of the rewards of the learner's last step.", points.last { $0.rewardStd != nil }?.rewardStd)
            gauge("kl", "KL divergence from the reference model at the learner's last step (k3 estimate).", points.last { $0.kl != nil }?.kl)
            gauge("heldout_pass_at_1", "Held-out greedy pass@1 at the learner's last evaluation.",
                  points.last { $0.heldOutPassAtOne != nil }?.heldOutPassAtOne)
        }
    }

    // MARK: gauges

    /// Sets the gauges from a status snapshot (queue depth, in flight and workers per service;
    /// the version each worker serves; swaps running).
    public func refresh(_ status: Shoal_V1_ClusterStatus) {
        var seen = Set<String>()
        var queued: [String: Int] = [:], inFlight: [String: Int] = [:], workers: [String: Int] = [:]
        for s in status.services {
            let label = services[s.name] != nil ? s.name : "other"
            seen.insert(label)
            queued[label, default: 0] += Int(s.queued)
            inFlight[label, default: 0] += Int(s.inFlight)
            workers[label, default: 0] += Int(s.workers)
        }
        for label in gaugedServices.union(seen) {
            let labels = [("service", label)]
            registry.makeGauge(descriptor: .init(namespace: "shoal", subsystem: "service", metricName: "queue_depth", unitName: "requests",
                                                 helpText: "Requests waiting for a worker."), labels: labels).set(Int64(queued[label] ?? 0))
            registry.makeGauge(descriptor: .init(namespace: "shoal", subsystem: "service", metricName: "in_flight", unitName: "requests",
                                                 helpText: "Requests at a worker now."), labels: labels).set(Int64(inFlight[label] ?? 0))
            registry.makeGauge(descriptor: .init(namespace: "shoal", subsystem: "service", metricName: "workers",
                                                 helpText: "Workers registered for the service (alive: they answer heartbeats)."), labels: labels).set(Int64(workers[label] ?? 0))
        }
        gaugedServices.formUnion(seen)

        // One series per worker connection and the version it serves; gone ones are dropped.
        var current: [[String]: Gauge] = [:]
        for w in status.workers {
            let key = [w.workerID, w.service, w.agent, w.modelVersion]
            current[key] = workerInfo[key] ?? registry.makeGauge(
                descriptor: .init(namespace: "shoal", subsystem: "worker", metricName: "model_info",
                                  helpText: "1 for each worker, with the agent and model version it serves."),
                labels: [("worker", w.workerID), ("service", w.service), ("agent", w.agent), ("version", w.modelVersion)])
            current[key]!.set(Int64(1))
        }
        for (key, gauge) in workerInfo where current[key] == nil { registry.unregisterGauge(gauge) }
        workerInfo = current

        registry.makeGauge(descriptor: .init(namespace: "shoal", subsystem: "swaps", metricName: "running",
                                             helpText: "Live swaps in progress (rolling or holding a canary)."))
            .set(Int64(status.swaps.filter { $0.state == "running" || $0.state == "canary" }.count))
        registry.makeGauge(descriptor: .init(namespace: "shoal", subsystem: "coordinator", metricName: "uptime", unitName: "seconds",
                                             helpText: "Seconds since the coordinator started.")).set(status.uptimeSeconds)
    }

    /// Messages the broker dropped or refused since the last call, from its counters.
    public func refresh(_ counters: Broker.Counters) {
        let reasons: [(String, UInt64, UInt64)] = [("malformed", counters.malformed, lastCounters.malformed),
                                                   ("refused", counters.refused, lastCounters.refused),
                                                   ("duplicate", counters.duplicates, lastCounters.duplicates)]
        for (reason, now, before) in reasons {
            registry.makeCounter(descriptor: .init(namespace: "shoal", subsystem: "coordinator", metricName: "messages_dropped", unitName: "total",
                                                   helpText: "Messages dropped: malformed, refused by the sender's role, or duplicate or late replies."),
                                 labels: [("reason", reason)]).increment(by: Int64(now &- before))
        }
        lastCounters = counters
    }

    public func text() -> String { registry.emitToString() }
}
