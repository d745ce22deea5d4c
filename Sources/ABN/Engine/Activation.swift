import CDNNL
import Foundation

/// An activation: the values flowing between layers, with their geometry and layout. `block` 1 is
/// plain NCHW; a larger block b is oneDNN's nChw{b}c (channel blocks of b values innermost, c a
/// multiple of b), the layout its fast kernels read and write, so inside the network activations
/// stay blocked and only the edges convert.
struct Act {
    var n: Int, c: Int, h: Int, w: Int
    var block: Int
    var data: [Float]

    init(n: Int, c: Int, h: Int, w: Int, block: Int = 1, data: [Float]) {
        precondition(block == 1 || c % block == 0, "\(c) channels do not split into blocks of \(block)")
        self.n = n; self.c = c; self.h = h; self.w = w
        self.block = block
        self.data = data
    }

    /// Values laid out as `g` says.
    init(_ g: Geometry, data: [Float]) {
        self.init(n: g.n, c: g.c, h: g.h, w: g.w, block: g.block, data: data)
    }

    init(zerosN n: Int, c: Int, h: Int, w: Int, block: Int = 1) {
        self.init(n: n, c: c, h: h, w: w, block: block, data: [Float](repeating: 0, count: n * c * h * w))
    }

    /// For outputs a kernel overwrites completely: skips zero-filling.
    init(uninitializedN n: Int, c: Int, h: Int, w: Int, block: Int = 1) {
        let count = n * c * h * w
        self.init(n: n, c: c, h: h, w: w, block: block,
                  data: [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count })
    }

    var count: Int { n * c * h * w }
    var plane: Int { h * w }
    var shape: [Int] { [n, c, h, w] }
    var geometry: Geometry { Geometry(n: n, c: c, h: h, w: w, block: block) }
    /// Plain NCHW values as the interchange type.
    var tensor: Tensor { Tensor(shape: shape, data: reblocked(1).data) }

    /// The same values in layout `b` (a copy unless it already is).
    func reblocked(_ b: Int) -> Act {
        if b == block { return self }
        var out = Act(uninitializedN: n, c: c, h: h, w: w, block: b)
        let plane = self.plane, c = self.c, from = block
        data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for ch in 0..<c {
                        let s = Act.offset(i, ch, c: c, plane: plane, block: from)
                        let d = Act.offset(i, ch, c: c, plane: plane, block: b)
                        for p in 0..<plane { dst[d + p * b] = src[s + p * from] }
                    }
                }
            }
        }
        return out
    }

    /// Index of (sample i, channel ch, position 0); position p adds p·block.
    @inline(__always)
    static func offset(_ i: Int, _ ch: Int, c: Int, plane: Int, block: Int) -> Int {
        i * c * plane + (ch / block) * plane * block + ch % block
    }
}

/// Shape and layout of an activation, kept where backward needs them but not the values.
struct Geometry: Hashable {
    var n: Int, c: Int, h: Int, w: Int, block: Int
    var plane: Int { h * w }
}

/// The layout activations use inside the network.
enum Layout {
    /// oneDNN's preferred channel block on this CPU (16 with AVX-512, 8 with AVX2).
    static let preferredBlock = Int(cdnnl_preferred_block())

    /// The preferred block where `channels` splits into it, else plain (e.g. K class maps).
    static func block(forChannels channels: Int) -> Int { block(forAll: [channels]) }

    /// The preferred block where every count splits into it (so concatenating them stays blocked), else plain.
    static func block(forAll channels: [Int]) -> Int {
        channels.allSatisfy { $0 % preferredBlock == 0 } ? preferredBlock : 1
    }
}

/// A learnable tensor with its gradient, named as in the official state_dict.
final class Parameter {
    let name: String
    let shape: [Int]
    var value: [Float]
    var grad: [Float]
    /// False for parameters a fine-tuning run keeps fixed.
    var trainable = true
    /// Nothing added to `grad` since zeroGrad (every layer adds its gradients through addGradient).
    private(set) var gradIsZero = true

    init(name: String, shape: [Int], value: [Float]) {
        precondition(shape.reduce(1, *) == value.count)
        self.name = name
        self.shape = shape
        self.value = value
        self.grad = [Float](repeating: 0, count: value.count)
    }

    func zeroGrad() {
        grad.withUnsafeMutableBufferPointer { g in
            for i in g.indices { g[i] = 0 }
        }
        gradIsZero = true
    }

    /// grad += what `compute` writes into the buffer it is given (every element): straight into grad
    /// when nothing was added since zeroGrad. A convolution's weight gradient is as large as its
    /// weights, and a temporary and an add were two more passes over it at every step; every layer
    /// adds its gradients this way, so `gradIsZero` is never out of date.
    func addGradient(_ compute: (inout [Float]) throws -> Void) rethrows {
        if gradIsZero {
            try compute(&grad)
        } else {
            var g = [Float](unsafeUninitializedCapacity: grad.count) { _, n in n = grad.count }
            try compute(&g)
            Vec.add(&grad, g)
        }
        gradIsZero = false
    }
}

/// Elementwise helpers on plain arrays, written with unsafe buffers because they run on every
/// activation of every step.
enum Vec {
    static func add(_ a: inout [Float], _ b: [Float]) {
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                Team.forEachShare(of: pa.count, work: 2 * pa.count) { range in
                    for i in range { pa[i] += pb[i] }
                }
            }
        }
    }

    /// dy where the ReLU's output was positive, else 0, as a new array.
    static func reluBackward(_ dy: [Float], output: [Float]) -> [Float] {
        [Float](unsafeUninitializedCapacity: dy.count) { out, initialized in
            let o = out.baseAddress!
            dy.withUnsafeBufferPointer { d in
                output.withUnsafeBufferPointer { y in
                    Team.forEachShare(of: d.count, work: 3 * d.count) { range in
                        for i in range { let v = d[i]; o[i] = y[i] > 0 ? v : 0 }
                    }
                }
            }
            initialized = dy.count
        }
    }

    /// σ(z) in place.
    static func sigmoid(_ z: inout [Float]) {
        z.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = 1 / (1 + exp(-p[i])) }
        }
    }

    /// dL/dz = dL/dσ · σ(1 − σ), from the sigmoid's output σ.
    static func sigmoidBackward(_ d: [Float], output s: [Float]) -> [Float] {
        var g = d
        for i in 0..<g.count { g[i] *= s[i] * (1 - s[i]) }
        return g
    }
}
