/// An NCHW activation: the values flowing between layers, with their geometry.
struct Act {
    var n: Int, c: Int, h: Int, w: Int
    var data: [Float]

    init(n: Int, c: Int, h: Int, w: Int, data: [Float]) {
        self.n = n; self.c = c; self.h = h; self.w = w
        self.data = data
    }

    init(zerosN n: Int, c: Int, h: Int, w: Int) {
        self.init(n: n, c: c, h: h, w: w, data: [Float](repeating: 0, count: n * c * h * w))
    }

    var count: Int { n * c * h * w }
    var plane: Int { h * w }
    var shape: [Int] { [n, c, h, w] }
    var tensor: Tensor { Tensor(shape: shape, data: data) }
}

/// A learnable tensor with its gradient, named as in the official state_dict.
final class Parameter {
    let name: String
    let shape: [Int]
    var value: [Float]
    var grad: [Float]
    /// False for parameters a fine-tuning run keeps fixed.
    var trainable = true

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
    }
}

/// Elementwise helpers on plain arrays, written with unsafe buffers because they run on every
/// activation of every step.
enum Vec {
    static func add(_ a: inout [Float], _ b: [Float]) {
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count { pa[i] += pb[i] }
            }
        }
    }

    static func relu(_ a: inout [Float]) {
        a.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count where p[i] < 0 { p[i] = 0 }
        }
    }

    /// dy where the ReLU's output was positive, else 0.
    static func reluBackward(_ dy: inout [Float], output: [Float]) {
        dy.withUnsafeMutableBufferPointer { d in
            output.withUnsafeBufferPointer { y in
                for i in 0..<d.count where y[i] <= 0 { d[i] = 0 }
            }
        }
    }
}
