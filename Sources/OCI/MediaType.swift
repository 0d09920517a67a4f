/// Media types of the OCI image spec and of Docker's image manifest schema 2.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    public static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"

    /// Types that name a single-platform image manifest.
    public static let manifests: Set<String> = [ociManifest, dockerManifest]
    /// Types that name a multi-platform index.
    public static let indexes: Set<String> = [ociIndex, dockerManifestList]
    /// Schema 1 types, which fnrt refuses.
    public static let schema1: Set<String> = [dockerSchema1, dockerSchema1Signed]

    /// How a layer's bytes are compressed, from its media type.
    public static func layerCompression(_ mediaType: String) -> LayerCompression? {
        switch mediaType {
        case ociLayer, "application/vnd.docker.image.rootfs.diff.tar": LayerCompression.none
        case ociLayerGzip, dockerLayerGzip, dockerForeignLayerGzip, ociLayerNondistributableGzip: .gzip
        case ociLayerZstd, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": .zstd
        default: nil
        }
    }
}

/// Compression of a layer tar.
public enum LayerCompression: String, Sendable {
    case none, gzip, zstd
}
