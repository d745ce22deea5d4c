import CDNNL

/// oneDNN's average pooling, concatenation and channel-slice primitives, in the caller's layout
/// (no reorders). Each is built once per shape and layout (creation costs about a millisecond) and
/// kept by the layer that uses it.
final class PoolPrimitive {
    struct Key: Hashable {
        var geometry: Geometry
        var kernelH, kernelW, stride: Int
        var training: Bool
    }

    private let handle: OpaquePointer
    let input: Geometry
    let output: Geometry

    init(_ key: Key) throws {
        let g = key.geometry
        guard let p = cdnnl_pool_create(Int32(g.n), Int32(g.c), Int32(g.h), Int32(g.w), Int32(key.kernelH), Int32(key.kernelW),
                                        Int32(key.stride), Int32(key.stride), Int32(g.block), key.training ? 1 : 0)
        else { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
        handle = p
        input = g
        output = Geometry(n: g.n, c: g.c, h: (g.h - key.kernelH) / key.stride + 1, w: (g.w - key.kernelW) / key.stride + 1, block: g.block)
    }

    deinit { cdnnl_pool_destroy(handle) }

    /// `x` must have the input geometry; the output has `output`'s.
    func forward(_ x: [Float]) throws -> [Float] {
        try oneDNNMap(x, count: output.n * output.c * output.plane) { cdnnl_pool_forward(handle, $0, $1) }
    }

    /// dL/dx (input geometry) from dL/dy (output geometry).
    func backward(_ dy: [Float]) throws -> [Float] {
        try oneDNNMap(dy, count: input.n * input.c * input.plane) { cdnnl_pool_backward(handle, $0, $1) }
    }
}

/// A fresh array of `count` values written by a shim call from `source`; a failing call throws the shim's error.
private func oneDNNMap(_ source: [Float], count: Int,
                       _ call: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?) -> Int32) throws -> [Float] {
    var out = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    let status = source.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { d in call(s.baseAddress, d.baseAddress) } }
    if status != 0 { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
    return out
}

/// Average pooling without padding, in the input's layout: DenseNet's 2×2 transitions
/// (F.avg_pool2d(x, 2): an odd last row or column is dropped) and global average pooling.
final class AveragePool {
    /// nil: global (the window is the whole map).
    let window: Int?
    private var primitives = PrimitiveCache<PoolPrimitive.Key, PoolPrimitive>()
    /// The primitive of the last training forward, for backward.
    private var trainingPrimitive: PoolPrimitive?

    init(window: Int?) { self.window = window }

    private func primitive(_ g: Geometry, training: Bool) throws -> PoolPrimitive {
        let key = PoolPrimitive.Key(geometry: g, kernelH: window ?? g.h, kernelW: window ?? g.w, stride: window ?? 1, training: training)
        return try primitives.get(key, make: PoolPrimitive.init)
    }

    func forward(_ x: Act, keepForBackward: Bool) throws -> Act {
        let p = try primitive(x.geometry, training: keepForBackward)
        trainingPrimitive = keepForBackward ? p : nil
        return Act(p.output, data: try p.forward(x.data))
    }

    /// dy in any layout; dx in the input's.
    func backward(_ dy: Act) throws -> Act {
        let p = try takeTrainingPrimitive()
        return Act(p.input, data: try p.backward(dy.reblocked(p.input.block).data))
    }

    /// The last training forward's primitive, once: a second backward needs a second forward.
    private func takeTrainingPrimitive() throws -> PoolPrimitive {
        guard let p = trainingPrimitive else { throw ABNError.kernel("average pooling backward without a training forward") }
        trainingPrimitive = nil
        return p
    }

    /// Global pooling: [N, C, h, w] → [N·C] row-major (a [N, C, 1, 1] result is that in every layout).
    func pooled(_ x: Act, keepForBackward: Bool) throws -> [Float] {
        precondition(window == nil, "pooled() is global pooling")
        return try forward(x, keepForBackward: keepForBackward).data
    }

    /// The backward of `pooled`: dy [N·C] → dL/dx in the input's layout.
    func pooledBackward(_ dy: [Float]) throws -> Act {
        let p = try takeTrainingPrimitive()
        return Act(p.input, data: try p.backward(dy))
    }

    /// The backward of global pooling without a forward before it: dy [N·C] / plane at every
    /// position of a map of geometry `g` (Grad-CAM's one-hot logit gradients, which need no state).
    func spread(_ dy: [Float], like g: Geometry) throws -> Act {
        precondition(window == nil, "spread() is global pooling")
        return Act(g, data: try primitive(g, training: true).backward(dy))
    }
}

/// DenseNet's concatenation along the channels and its backward, the two channel slices.
final class ChannelConcat {
    private struct Key: Hashable { var n, ca, cb, h, w, blockA, blockB, blockOut: Int }
    private struct SliceKey: Hashable { var source: Geometry, first, count, block: Int }
    private var concats = PrimitiveCache<Key, Concat>()
    private var slices = PrimitiveCache<SliceKey, Slice>()

    private final class Concat {
        let handle: OpaquePointer
        init(_ k: Key) throws {
            guard let h = cdnnl_concat_create(Int32(k.n), Int32(k.ca), Int32(k.cb), Int32(k.h), Int32(k.w), Int32(k.blockA),
                                              Int32(k.blockB), Int32(k.blockOut))
            else { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
            handle = h
        }
        deinit { cdnnl_concat_destroy(handle) }
    }

    private final class Slice {
        let handle: OpaquePointer
        init(_ k: SliceKey) throws {
            let g = k.source
            guard let h = cdnnl_slice_create(Int32(g.n), Int32(g.c), Int32(g.h), Int32(g.w), Int32(g.block), Int32(k.first),
                                             Int32(k.count), Int32(k.block))
            else { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
            handle = h
        }
        deinit { cdnnl_slice_destroy(handle) }
    }

    /// [a, b] along the channels (same n, h, w) in layout `block`.
    func concatenated(_ a: Act, _ b: Act, block: Int) throws -> Act {
        precondition(a.n == b.n && a.h == b.h && a.w == b.w, "concatenation of different geometries")
        let key = Key(n: a.n, ca: a.c, cb: b.c, h: a.h, w: a.w, blockA: a.block, blockB: b.block, blockOut: block)
        let p = try concats.get(key, make: Concat.init)
        var out = Act(uninitializedN: a.n, c: a.c + b.c, h: a.h, w: a.w, block: block)
        let status = a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { po in cdnnl_concat_run(p.handle, pa.baseAddress, pb.baseAddress, po.baseAddress) }
            }
        }
        if status != 0 { throw ABNError.kernel(String(cString: cdnnl_last_error())) }
        return out
    }

    /// Channels `range` of `x` on their own, in layout `block` (the backward of the concatenation).
    func channels(_ x: Act, _ range: Range<Int>, block: Int) throws -> Act {
        let key = SliceKey(source: x.geometry, first: range.lowerBound, count: range.count, block: block)
        let p = try slices.get(key, make: Slice.init)
        let data = try oneDNNMap(x.data, count: x.n * range.count * x.plane) { cdnnl_slice_run(p.handle, $0, $1) }
        return Act(n: x.n, c: range.count, h: x.h, w: x.w, block: block, data: data)
    }
}
