import CDNNL

/// What a fused inference convolution does after the bias: optionally add a residual (given with
/// each call), then a ReLU.
enum ConvEpilogue: Hashable {
    case none, relu, sumRelu
    /// The residual added, no ReLU (pre-activation blocks: the next block normalises the sum first).
    case sum

    var addsResidual: Bool { self == .sum || self == .sumRelu }
    var appliesReLU: Bool { self == .relu || self == .sumRelu }
}

/// oneDNN convolution primitives for one shape and layout, built once and reused (creation costs
/// milliseconds).
final class ConvPrimitive {
    let handle: OpaquePointer
    let outH: Int, outW: Int

    struct Key: Hashable {
        var n, c, h, w, k, r, stride, pad, srcBlock, dstBlock: Int
        /// Channel groups (1: an ordinary convolution; ResNeXt's 3×3 convolutions have more).
        var groups = 1
        /// Training primitives (forward, backward data, backward weights, no bias) or folded inference
        /// ones (bias and epilogue).
        var training: Bool
        var epilogue: ConvEpilogue
        /// Never the Winograd kernel (tests compare it with the direct one).
        var directOnly = false
        /// bfloat16 inputs and weights (ConvolutionPrecision.bf16).
        var bf16 = false
    }

    init(_ key: Key) throws {
        var params = cdnnl_conv_params(
            n: Int32(key.n), c: Int32(key.c), h: Int32(key.h), w: Int32(key.w), k: Int32(key.k), r: Int32(key.r),
            stride: Int32(key.stride), pad: Int32(key.pad), groups: Int32(key.groups), src_block: Int32(key.srcBlock), dst_block: Int32(key.dstBlock),
            with_bias: key.training ? 0 : 1, training: key.training ? 1 : 0, post_residual: key.epilogue.addsResidual ? 1 : 0,
            post_relu: key.epilogue.appliesReLU ? 1 : 0, direct_only: key.directOnly ? 1 : 0, bf16: key.bf16 ? 1 : 0)
        guard let p = cdnnl_conv_create(&params) else { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
        handle = p
        outH = Int(cdnnl_conv_out_h(p))
        outW = Int(cdnnl_conv_out_w(p))
    }

    deinit { cdnnl_conv_destroy(handle) }

    /// Whether the Winograd kernel may serve here (AVX2 and FMA, ABN_WINOGRAD not 0).
    static var winogradEnabled: Bool { cdnnl_winograd_enabled() != 0 }

    /// Whether the forward pass runs on the Winograd F(4×4, 3×3) kernel (winograd.c).
    var usesWinograd: Bool { cdnnl_conv_is_winograd(handle) != 0 }

    /// Whether a residual epilogue reads the residual where it lies (the Winograd kernel, or oneDNN's
    /// binary post-op) rather than copied into dst for oneDNN's sum post-op.
    var readsResidualWhereItLies: Bool { cdnnl_conv_reads_residual_where_it_lies(handle) != 0 }

    /// Whether training's backward weights run on it too (not at few channels on AVX-512, see
    /// `winogradBackwardWeightsMinimumChannels`).
    var backwardWeightsUseWinograd: Bool { cdnnl_conv_backward_weights_is_winograd(handle) != 0 }

    /// The fewest input and output channels at which training's backward weights run on the Winograd
    /// kernel (32 on AVX-512, every Winograd layer on AVX2); a new value applies to convolutions made
    /// afterwards (tests and `bench --kernels` set 0 to time and check the kernel everywhere).
    static var winogradBackwardWeightsMinimumChannels: Int {
        get { Int(cdnnl_winograd_backward_weights_min_channels(-1)) }
        set { cdnnl_winograd_backward_weights_min_channels(Int32(newValue)) }
    }

    /// Whether a Winograd training convolution made now with these channels takes its backward
    /// weights on the Winograd kernel.
    static func backwardWeightsOnWinograd(inChannels: Int, outChannels: Int) -> Bool {
        cdnnl_winograd_backward_weights_wanted(Int32(inChannels), Int32(outChannels)) != 0
    }

    /// The version of the weights the primitive holds in its own layout (inference only).
    private var preparedWeights: Int?

    /// Whether it keeps its own copy of the weights once given (reordered or transformed), so a
    /// call with the version it holds does not read the caller's weights.
    var keepsWeights: Bool { cdnnl_conv_keeps_weights(handle) != 0 }

    /// Whether it holds weights of `version` (given with that version by an earlier call).
    func holdsWeights(version: Int) -> Bool { preparedWeights == version }

    /// `residual` (laid out as dst) is added before the ReLU, given exactly when the epilogue adds one.
    /// `weightsVersion` identifies unchanged weights (folded inference weights), so they are reordered
    /// once, not on every call.
    func forward(_ src: [Float], _ weights: [Float], weightsVersion: Int? = nil, _ bias: [Float]?, residual: [Float]? = nil,
                 into dst: inout [Float]) throws {
        let changed: Int32 = weightsVersion == nil || weightsVersion != preparedWeights ? 1 : 0
        let status = src.withUnsafeBufferPointer { s in
            weights.withUnsafeBufferPointer { wt in
                withBaseAddress(of: bias) { b in
                    withBaseAddress(of: residual) { r in
                        dst.withUnsafeMutableBufferPointer { d in
                            cdnnl_conv_forward(handle, s.baseAddress, wt.baseAddress, changed, b, r, d.baseAddress)
                        }
                    }
                }
            }
        }
        if status != 0 { preparedWeights = nil; throw ABNError.kernel(String(cString: cdnnl_last_error())) }
        preparedWeights = weightsVersion
    }

    private func withBaseAddress<R>(of values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let values else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    func backwardData(_ diffDst: [Float], _ weights: [Float], into diffSrc: inout [Float]) throws {
        let status = diffDst.withUnsafeBufferPointer { dd in
            weights.withUnsafeBufferPointer { wt in
                diffSrc.withUnsafeMutableBufferPointer { ds in
                    cdnnl_conv_backward_data(handle, dd.baseAddress, wt.baseAddress, ds.baseAddress)
                }
            }
        }
        if status != 0 { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
    }

    func backwardWeights(_ src: [Float], _ diffDst: [Float], into diffWeights: inout [Float]) throws {
        let status = src.withUnsafeBufferPointer { s in
            diffDst.withUnsafeBufferPointer { dd in
                diffWeights.withUnsafeMutableBufferPointer { dw in
                    cdnnl_conv_backward_weights(handle, s.baseAddress, dd.baseAddress, dw.baseAddress)
                }
            }
        }
        if status != 0 { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
    }
}

/// oneDNN primitives keyed by what they were built for (shape, layout, kind), so a layer seeing a
/// new batch size builds new ones once: convolutions here, pooling and concatenation in
/// PoolingAndConcat.swift.
struct PrimitiveCache<Key: Hashable, Primitive> {
    private var store: [Key: Primitive] = [:]

    mutating func get(_ key: Key, make: (Key) throws -> Primitive) rethrows -> Primitive {
        if let p = store[key] { return p }
        let p = try make(key)
        store[key] = p
        return p
    }
}

/// The arithmetic of convolutions. FP32 is the default and what every parity test checks; BF16
/// rounds each convolution's input and weights to bfloat16 and accumulates in float (oneDNN's
/// AVX512_BF16 kernels), everything else staying FP32. Inference (BatchNorm folded in: eval, collect,
/// explain, a frozen extractor's features) and training (fine-tuning's layers) are set apart, so a
/// bf16 fine-tune still trains on FP32 features and is evaluated in FP32. The gradients of Grad-CAM
/// always run in FP32.
public enum ConvolutionPrecision: String, CaseIterable, Codable, Sendable {
    case fp32, bf16

    /// Whether this CPU has bfloat16 convolutions (AVX512_BF16).
    public static var bf16Available: Bool { cdnnl_bf16_available() != 0 }

    /// The precision inference convolutions built from now on use (process-wide, like the thread count).
    public private(set) nonisolated(unsafe) static var inference = ConvolutionPrecision.fp32

    /// The precision training convolutions built from now on use (forward, backward data, backward
    /// weights; gradients flow in rounded to bfloat16 and out in float). 3×3 stride-1 layers that the
    /// Winograd kernel takes stay FP32 there: its F(4×4, 3×3) products are fewer than bf16's direct
    /// ones cost (docs/benchmarks.md, "bf16 fine-tuning").
    public private(set) nonisolated(unsafe) static var training = ConvolutionPrecision.fp32

    /// Sets `inference` or `training`; BF16 on a CPU without AVX512_BF16 is an error, not a silent FP32.
    public static func set(_ precision: ConvolutionPrecision, training: Bool = false) throws {
        if precision == .bf16 && !bf16Available {
            throw ABNError.kernel("bf16 needs a CPU with AVX512_BF16 (this one has none); use fp32")
        }
        if training { Self.training = precision } else { inference = precision }
    }
}

/// OpenMP threads for oneDNN. Call it on the thread that runs the model (OpenMP settings are per
/// calling thread).
public func setComputeThreads(_ n: Int) {
    cdnnl_set_threads(Int32(max(1, n)))
}

/// C[m×n] = A·B (+ C when accumulate), row-major, with optional transposes, through dnnl_sgemm.
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
           _ c: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
    let lda = transA ? m : k
    let ldb = transB ? k : n
    _ = cdnnl_sgemm(CChar(UInt8(ascii: transA ? "T" : "N")), CChar(UInt8(ascii: transB ? "T" : "N")), m, n, k, 1, a, lda,
                    b, ldb, accumulate ? 1 : 0, c, n)
}
