import CDNNL

/// oneDNN convolution primitives for one shape, built once and reused (creation costs milliseconds).
final class ConvPrimitive {
    let handle: OpaquePointer
    let outH: Int, outW: Int

    init(n: Int, c: Int, h: Int, w: Int, k: Int, r: Int, stride: Int, pad: Int, bias: Bool, relu: Bool, training: Bool) throws {
        guard let p = cdnnl_conv_create(Int32(n), Int32(c), Int32(h), Int32(w), Int32(k), Int32(r), Int32(stride),
                                        Int32(pad), bias ? 1 : 0, relu ? 1 : 0, training ? 1 : 0) else {
            throw ABNError.kernel(String(cString: cdnnl_last_error()))
        }
        handle = p
        outH = Int(cdnnl_conv_out_h(p))
        outW = Int(cdnnl_conv_out_w(p))
    }

    deinit { cdnnl_conv_destroy(handle) }

    func forward(_ src: [Float], _ weights: [Float], _ bias: [Float]?, into dst: inout [Float]) throws {
        let status = src.withUnsafeBufferPointer { s in
            weights.withUnsafeBufferPointer { wt in
                dst.withUnsafeMutableBufferPointer { d in
                    if let bias {
                        return bias.withUnsafeBufferPointer { b in cdnnl_conv_forward(handle, s.baseAddress, wt.baseAddress, b.baseAddress, d.baseAddress) }
                    }
                    return cdnnl_conv_forward(handle, s.baseAddress, wt.baseAddress, nil, d.baseAddress)
                }
            }
        }
        if status != 0 { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
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

/// Primitives keyed by shape, so a layer seeing a new batch size builds new ones once.
struct ConvPrimitiveCache {
    private struct Key: Hashable { var n, h, w: Int; var bias, relu, training: Bool }
    private var store: [Key: ConvPrimitive] = [:]

    mutating func get(n: Int, c: Int, h: Int, w: Int, k: Int, r: Int, stride: Int, pad: Int,
                      bias: Bool, relu: Bool, training: Bool) throws -> ConvPrimitive {
        let key = Key(n: n, h: h, w: w, bias: bias, relu: relu, training: training)
        if let p = store[key] { return p }
        let p = try ConvPrimitive(n: n, c: c, h: h, w: w, k: k, r: r, stride: stride, pad: pad, bias: bias,
                                  relu: relu, training: training)
        store[key] = p
        return p
    }

    mutating func removeAll() { store.removeAll() }
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

/// oneDNN batch normalization (training mode) for one shape.
final class BatchNormPrimitive {
    let handle: OpaquePointer

    init(n: Int, c: Int, h: Int, w: Int, eps: Float) throws {
        guard let p = cdnnl_bn_create(Int32(n), Int32(c), Int32(h), Int32(w), eps) else {
            throw ABNError.kernel(String(cString: cdnnl_last_error()))
        }
        handle = p
    }

    deinit { cdnnl_bn_destroy(handle) }

    func forward(_ src: [Float], _ scale: [Float], _ shift: [Float], into dst: inout [Float], mean: inout [Float],
                 variance: inout [Float]) throws {
        let status = src.withUnsafeBufferPointer { s in scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
            dst.withUnsafeMutableBufferPointer { d in mean.withUnsafeMutableBufferPointer { m in variance.withUnsafeMutableBufferPointer { v in
                cdnnl_bn_forward_training(handle, s.baseAddress, sc.baseAddress, sh.baseAddress, d.baseAddress, m.baseAddress, v.baseAddress)
            } } } } } }
        if status != 0 { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
    }

    func backward(_ src: [Float], _ diffDst: [Float], mean: [Float], variance: [Float], scale: [Float],
                  into diffSrc: inout [Float], diffScale: inout [Float], diffShift: inout [Float]) throws {
        let status = src.withUnsafeBufferPointer { s in diffDst.withUnsafeBufferPointer { dd in mean.withUnsafeBufferPointer { m in
            variance.withUnsafeBufferPointer { v in scale.withUnsafeBufferPointer { sc in
                diffSrc.withUnsafeMutableBufferPointer { ds in diffScale.withUnsafeMutableBufferPointer { dsc in
                    diffShift.withUnsafeMutableBufferPointer { dsh in
                        cdnnl_bn_backward(handle, s.baseAddress, dd.baseAddress, m.baseAddress, v.baseAddress, sc.baseAddress,
                                          ds.baseAddress, dsc.baseAddress, dsh.baseAddress)
                    } } } } } } } }
        if status != 0 { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
    }
}
