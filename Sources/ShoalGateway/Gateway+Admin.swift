import Foundation
import Hummingbird
import ShoalClient
import ShoalJSON
import ShoalWire

/// `POST /v1/admin/swap` and `POST /v1/admin/rollback`, for admin API keys only (a gateway without
/// API keys has no admin caller: anything on the host, a web page included, could reach it).
/// They go to the coordinator with the gateway's admin credentials (`--admin-key`), never its
/// client key; a gateway started without them answers 503 and says how to give them.
extension Gateway {
    func addAdminRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/admin/swap") { request, _ -> Response in
            await self.respond(route: "admin_swap", request) {
                let fields = try await self.adminFields(request, required: ["agent", "model"], optional: ["strategy"])
                let answer = try await self.admin("swap", ["agent": fields["agent"]!, "model": fields["model"]!, "strategy": fields["strategy"] ?? "rolling"])
                return Self.rawJSON(answer, status: .accepted)
            }
        }
        router.post("/v1/admin/rollback") { request, _ -> Response in
            await self.respond(route: "admin_rollback", request) {
                let fields = try await self.adminFields(request, required: ["agent"], optional: ["to"])
                let answer = try await self.admin("rollback", ["agent": fields["agent"]!, "to": fields["to"] ?? ""])
                return Self.rawJSON(answer, status: .accepted)
            }
        }
    }

    /// The body's string fields, once the caller is known to be an admin.
    private func adminFields(_ request: Request, required: [String], optional: [String]) async throws -> [String: String] {
        guard let caller = try authorize(request) else {
            throw GatewayError(status: 403, type: "permission_error", message: "swaps and rollbacks need an admin API key; this gateway has none (--api-keys)",
                               param: nil, code: "forbidden")
        }
        guard caller.role == .admin else {
            throw GatewayError(status: 403, type: "permission_error", message: "key '\(caller.name)' has role client; swaps and rollbacks need role admin",
                               param: nil, code: "forbidden")
        }
        guard adminClients != nil else {
            throw GatewayError.unavailable("this gateway has no admin credentials for the coordinator; start it with --admin-key FILE")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(try await body(request)) } catch let e as GatewayError { throw e } catch {
            throw GatewayError.badRequest("the body is not JSON: \(error)", param: nil)
        }
        guard let object = value.objectValue else { throw GatewayError.badRequest("the body is not a JSON object", param: nil) }
        var fields: [String: String] = [:]
        for key in required + optional {
            guard let v = object[key], v != .null else {
                if required.contains(key) { throw GatewayError.badRequest("\(key): required, a string", param: key) }
                continue
            }
            guard let s = v.stringValue, !s.isEmpty else { throw GatewayError.badRequest("\(key): must be a non-empty string", param: key) }
            fields[key] = s
        }
        return fields
    }

    private func admin(_ action: String, _ params: [String: String]) async throws -> String {
        guard let adminClients else { throw GatewayError.unavailable("no admin credentials") }
        do {
            return try await adminClients.run { try $0.admin(action, params) }
        } catch let e as ClientError {
            if case let .refused(_, reason, code) = e {
                switch code {
                case .notFound: throw GatewayError(status: 404, type: "invalid_request_error", message: reason, param: nil, code: "not_found")
                case .conflict: throw GatewayError(status: 409, type: "invalid_request_error", message: reason, param: nil, code: "conflict")
                case .noSuchService: throw GatewayError.unavailable(reason)
                case .forbidden: throw GatewayError(status: 502, type: "server_error", message: "the coordinator refused the gateway's admin key: \(reason)",
                                                    param: nil, code: "forbidden")
                default:
                    var outcome = SubTaskOutcome(header: Shoal_V1_ReplyHeader())
                    outcome.code = code
                    outcome.message = reason
                    throw Self.failure(outcome, model: MDP.adminService)
                }
            }
            throw Self.failure(e, model: MDP.adminService)
        }
    }
}
