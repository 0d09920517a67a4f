/// A committed change to the metadata, as passed to `MetadataStore.observe`.
public enum ManagementChange: Sendable, Equatable, Hashable {
    case app(id: String, deleted: Bool)
    case function(id: String, deleted: Bool)
    case trigger(id: String, deleted: Bool)
}
