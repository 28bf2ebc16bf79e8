import XCTest
@testable import ZeroMQ

final class ZeroMQTests: XCTestCase {
    func testMultipartRoundTripOverTCPPreservesFramesIncludingEmptyOnes() throws {
        let ctx = try Context()
        let router = try ctx.socket(.router)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint()
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        XCTAssertFalse(endpoint.hasSuffix(":*"))
        let dealer = try ctx.socket(.dealer)
        try dealer.setRoutingId(Array("peer-1".utf8))
        try dealer.connect(endpoint)
        let sent: [Frame] = [[], Array("hello".utf8), [0, 1, 2, 255], Array(repeating: 7, count: 100_000)]
        try dealer.send(sent)
        let got = try XCTUnwrap(try router.receive())
        XCTAssertEqual(got.first, Array("peer-1".utf8))
        XCTAssertEqual(Array(got.dropFirst()), sent)
        try router.send([Array("peer-1".utf8), Array("back".utf8)])
        XCTAssertEqual(try dealer.receive(), [Array("back".utf8)])
    }

    func testErrorsCarryZmqStrerrorText() throws {
        let ctx = try Context()
        let s = try ctx.socket(.router)
        XCTAssertThrowsError(try s.bind("nonsense://x")) { error in
            let e = error as? ZMQError
            XCTAssertNotNil(e)
            XCTAssertTrue(String(describing: error).contains("zmq_bind(nonsense://x)"), "\(error)")
            XCTAssertTrue(String(describing: error).lowercased().contains("protocol"), "\(error)")
        }
    }

    func testReceiveDontWaitReturnsNilWhenNothingWaits() throws {
        let ctx = try Context()
        let s = try ctx.socket(.dealer)
        try s.bind("inproc://empty")
        XCTAssertNil(try s.receive(dontWait: true))
    }

    func testOpeningAndClosingTenThousandSocketsLeaksNoFileDescriptors() throws {
        let before = try openFileDescriptors()
        // libzmq closes sockets asynchronously (its reaper thread); terminating a context waits
        // for all of its sockets, so batches of 100 per context make the count deterministic.
        for batch in 0..<100 {
            let ctx = try Context()
            for i in 0..<100 {
                let s = try ctx.socket((batch + i) % 2 == 0 ? .router : .dealer)
                try s.setLinger(0)
                s.close()
            }
        }
        let after = try openFileDescriptors()
        XCTAssertLessThan(after - before, 8, "fds before \(before), after \(after)")
    }

    func testPollerWakesOnEventfdAndOnSocketInput() throws {
        let ctx = try Context()
        let a = try ctx.socket(.pair), b = try ctx.socket(.pair)
        try a.bind("inproc://poll"); try b.connect("inproc://poll")
        let bell = try Wakeup()
        var poller = Poller()
        let sockIndex = poller.add(b)
        let bellIndex = poller.add(fileDescriptor: bell.fileDescriptor)
        XCTAssertEqual(try poller.poll(timeoutMs: 0), [])
        bell.ring()
        XCTAssertEqual(try poller.poll(timeoutMs: 1000), [bellIndex])
        bell.drain()
        try a.send([[1]])
        XCTAssertEqual(try poller.poll(timeoutMs: 1000), [sockIndex])
    }

    func testCurveEncryptedPairTalksAndWrongServerKeyDoesNot() throws {
        let ctx = try Context()
        let serverKeys = try CurveKeyPair.generate()
        XCTAssertEqual(serverKeys.publicKey.count, 40)
        let server = try ctx.socket(.router)
        try server.makeCurveServer(secretKey: serverKeys.secretKey)
        try server.bind("tcp://127.0.0.1:*")
        let client = try ctx.socket(.dealer)
        try client.makeCurveClient(serverKey: serverKeys.publicKey, keyPair: try CurveKeyPair.generate())
        try client.connect(try server.lastEndpoint())
        try client.send([Array("secret".utf8)])
        var poller = Poller(); poller.add(server)
        XCTAssertFalse(try poller.poll(timeoutMs: 5000).isEmpty)
        XCTAssertEqual(try server.receive()?.last, Array("secret".utf8))

        let impostor = try ctx.socket(.dealer)
        try impostor.makeCurveClient(serverKey: try CurveKeyPair.generate().publicKey, keyPair: try CurveKeyPair.generate())
        try impostor.connect(try server.lastEndpoint())
        try impostor.send([Array("nope".utf8)], dontWait: true)
        XCTAssertTrue(try poller.poll(timeoutMs: 300).isEmpty, "a client with the wrong server key must not get through")
    }

    private func openFileDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }
}
