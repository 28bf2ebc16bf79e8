import Foundation
import Hummingbird
import NIOCore

/// The dashboard at `/`: workers (skills, versions, load, health), services (queues, rates),
/// swaps, recent tasks with their step traces, and learners' reward and held-out curves (SVG).
/// The page is server-rendered; `/dashboard.js` refreshes its live part from
/// `/dashboard/live` every two seconds. With API keys the page holds no data until the browser
/// gives its key (`/#key=KEY`, kept in the tab's session storage and sent as a bearer token);
/// a client key sees only its own tasks.
extension Gateway {
    static let htmlHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        // Only this origin's script (no inline script), inline styles, SVG inline.
        .contentSecurityPolicy: "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:",
        .cacheControl: "no-store",
    ]

    func addDashboardRoutes(to router: Router<BasicRequestContext>) {
        let rates = ServiceRates()
        router.get("/") { request, _ -> Response in
            await self.respond(route: "dashboard", request) {
                // Without API keys every caller is this host's own: the first rendering comes with the page.
                let live = self.options.apiKeys == nil ? try await self.liveHTML(caller: nil, rates: rates) : nil
                return Response(status: .ok, headers: Self.htmlHeaders, body: .init(byteBuffer: ByteBuffer(string: DashboardPage.page(live: live))))
            }
        }
        router.get("/dashboard.js") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: DashboardPage.script)))
        }
        router.get("/dashboard/live") { request, _ -> Response in
            await self.respond(route: "dashboard_live", request) {
                let caller = try self.authorize(request)
                return Response(status: .ok, headers: Self.htmlHeaders,
                                body: .init(byteBuffer: ByteBuffer(string: try await self.liveHTML(caller: caller, rates: rates))))
            }
        }
    }

    /// The live part for `caller`: tasks come through the admin credentials when the gateway has
    /// them (the coordinator shows its own key's tasks only), filtered to the caller's own for a client key.
    /// A rendering less than a second old is served again (per key: each sees its own tasks),
    /// so open dashboards cost the coordinator a few reads a second, however many there are.
    private func liveHTML(caller: APIKeys.Entry?, rates: ServiceRates) async throws -> String {
        let scope = caller.map { $0.role == .admin ? "admin" : "client:" + $0.name } ?? ""
        if let fresh = dashboardCache.fresh(scope) { return fresh }
        var data = try await clients.run { try DashboardData.read($0) }
        data.rates = rates.update(data.status)
        let owners = taskOwners
        let (tasks, problem) = try await (dashboardClients ?? clients).run { DashboardData.tasks($0, keep: { owners.visible($0, to: caller) }) }
        data.tasks = tasks
        if let problem { data.problems.append(problem) }
        let html = DashboardPage.live(data)
        dashboardCache.store(html, for: scope)
        return html
    }
}
