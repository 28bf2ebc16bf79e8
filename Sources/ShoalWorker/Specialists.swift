import ShoalConfig

/// Builds the specialist an agent file asks for.
public enum Specialists {
    public enum BuildError: Error, CustomStringConvertible {
        case backendNotBuilt(file: String, backend: String)
        public var description: String {
            switch self {
            case let .backendNotBuilt(file, backend):
                "\(file): backend: \"\(backend)\" is not available in this build of Shoal yet (available: builtin, openai, swift)"
            }
        }
    }

    public static func make(for agent: AgentSpec) throws -> any Specialist {
        switch agent.backend {
        case .builtin:
            switch agent.model {
            case "calculator": return CalculatorSpecialist()
            case "echo": return EchoSpecialist()
            case "retrieval": return try RetrievalSpecialist(agent: agent)
            default: throw BuildError.backendNotBuilt(file: agent.sourceFile, backend: "builtin:\(agent.model)")
            }
        case .openai:
            return try OpenAISpecialist(agent: agent)
        case .swift:
            return try ModelSpecialist(agent: agent)
        }
    }
}
