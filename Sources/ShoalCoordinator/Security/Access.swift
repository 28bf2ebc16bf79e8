import ShoalConfig
import ShoalWire

/// Which role may do what at the coordinator: one table, checked where each kind of message is
/// handled (the broker for requests and worker commands, the admin, blob and task services for
/// theirs). Every refusal names the key, its role and what it would need.
public enum Access {
    /// A worker command (READY, a reply, a heartbeat) from `principal` for `service`.
    public static func refusal(serving service: String, by principal: Principal) -> String? {
        if principal.mayServe(service) { return nil }
        return principal.role == .worker
            ? "key '\(principal.name)' may serve only \(principal.scope?.sorted().joined(separator: ", ") ?? ""), not '\(service)'"
            : "key '\(principal.name)' has role \(principal.role.rawValue); only role worker may register as a worker"
    }

    /// A client request for an ordinary service, 8/MMI or the status service.
    public static func refusal(calling service: String, by principal: Principal) -> String? {
        principal.mayCall ? nil : "key '\(principal.name)' has role \(principal.role.rawValue); only client, learner or admin keys may send requests"
    }

    /// `shoal.blob` serves stored model files: to the workers that load them and to publishers.
    public static func refusalToReadBlobs(_ principal: Principal) -> String? {
        principal.unauthenticated || principal.role == .worker || principal.role >= .learner ? nil
            : "key '\(principal.name)' has role \(principal.role.rawValue); model files go to workers, learners and admins only"
    }

    /// A `shoal.admin` action: reading is for every caller; import, swap, promote and rollback
    /// publish versions (learner, for its agents, or admin); remove is admin's alone.
    public static func refusal(admin action: String, agent: String?, by principal: Principal) -> String? {
        if let why = refusal(calling: MDP.adminService, by: principal) { return why }
        switch action {
        case "models", "swap-status", "learner-curves":
            return nil
        case "import", "merge", "swap", "promote", "rollback", "learner-report":
            if principal.mayPublish(agent: agent ?? "") { return nil }
            if principal.role == .learner {
                return "key '\(principal.name)' may publish only \(principal.scope?.sorted().joined(separator: ", ") ?? ""), not '\(agent ?? "")'"
            }
            return "key '\(principal.name)' has role \(principal.role.rawValue); \(action) needs role learner or admin"
        default:
            return principal.isAdmin ? nil : "key '\(principal.name)' has role \(principal.role.rawValue); \(action) needs role admin"
        }
    }
}
