/// A `WWW-Authenticate` challenge: its scheme and parameters.
public struct AuthChallenge: Equatable, Sendable {
    public var scheme: String
    public var parameters: [String: String]

    /// Parses challenges like `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`.
    /// Parameter names are lowercased; quoted values keep their escapes resolved.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        var chars = Substring(header)
        func skipSpaces() { while chars.first == " " || chars.first == "\t" { chars = chars.dropFirst() } }
        func token() -> String {
            let end = chars.firstIndex { $0 == " " || $0 == "=" || $0 == "," || $0 == "\t" } ?? chars.endIndex
            defer { chars = chars[end...] }
            return String(chars[..<end])
        }
        while !chars.isEmpty {
            skipSpaces()
            while chars.first == "," { chars = chars.dropFirst(); skipSpaces() }
            let scheme = token()
            guard !scheme.isEmpty else { break }
            var parameters: [String: String] = [:]
            while true {
                skipSpaces()
                let save = chars
                let name = token()
                skipSpaces()
                guard !name.isEmpty, chars.first == "=" else { chars = save; break }
                chars = chars.dropFirst()
                skipSpaces()
                var value = ""
                if chars.first == "\"" {
                    chars = chars.dropFirst()
                    while let c = chars.first, c != "\"" {
                        if c == "\\", chars.count > 1 { chars = chars.dropFirst() }
                        value.append(chars.first!)
                        chars = chars.dropFirst()
                    }
                    chars = chars.dropFirst()
                } else {
                    value = token()
                }
                parameters[name.lowercased()] = value
                skipSpaces()
                if chars.first == "," { chars = chars.dropFirst() } else { break }
            }
            challenges.append(AuthChallenge(scheme: scheme.lowercased(), parameters: parameters))
        }
        return challenges
    }
}
