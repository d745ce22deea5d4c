/// Per-channel and per-position loops that work in every layout of `Act`. Element (sample i,
/// channel cb·B + j, position p) sits at ((i·C/B + cb)·plane + p)·B + j, which is NCHW for B = 1
/// and oneDNN's nChw{B}c otherwise, so one loop nest serves both.
enum Channelwise {
    /// out = (x − center[c])·scale[c] + shift[c]: BatchNorm's normalisation (center nil: 0).
    static func affine(_ x: Act, scale: [Float], shift: [Float], center: [Float]? = nil, into out: inout [Float]) {
        let b = x.block, blocks = x.c / x.block, plane = x.plane
        let center = center ?? [Float](repeating: 0, count: x.c)
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                scale.withUnsafeBufferPointer { s in
                    shift.withUnsafeBufferPointer { t in
                        center.withUnsafeBufferPointer { m in
                            for i in 0..<x.n {
                                for cb in 0..<blocks {
                                    let base = (i * blocks + cb) * plane * b, c0 = cb * b
                                    for p in 0..<plane {
                                        for j in 0..<b {
                                            dst[base + p * b + j] = (src[base + p * b + j] - m[c0 + j]) * s[c0 + j] + t[c0 + j]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Per channel, Σ x·(y − center) over samples and positions (y nil: Σ x), with Float partial
    /// sums per sample and Double totals, so long reductions stay accurate.
    static func sums(_ x: Act, times y: Act? = nil, center: [Float]? = nil) -> [Double] {
        let b = x.block, blocks = x.c / x.block, plane = x.plane
        var total = [Double](repeating: 0, count: x.c)
        var partial = [Float](repeating: 0, count: b)
        let center = center ?? [Float](repeating: 0, count: x.c)
        x.data.withUnsafeBufferPointer { xp in
            (y ?? x).data.withUnsafeBufferPointer { yp in
                center.withUnsafeBufferPointer { m in
                    partial.withUnsafeMutableBufferPointer { part in
                        for i in 0..<x.n {
                            for cb in 0..<blocks {
                                let base = (i * blocks + cb) * plane * b, c0 = cb * b
                                for j in 0..<b { part[j] = 0 }
                                if y == nil {
                                    for p in 0..<plane { for j in 0..<b { part[j] += xp[base + p * b + j] } }
                                } else {
                                    for p in 0..<plane {
                                        for j in 0..<b { part[j] += xp[base + p * b + j] * (yp[base + p * b + j] - m[c0 + j]) }
                                    }
                                }
                                for j in 0..<b { total[c0 + j] += Double(part[j]) }
                            }
                        }
                    }
                }
            }
        }
        return total
    }

    /// out = dy·a[c] + (x − center[c])·k[c] + t[c]: BatchNorm's input gradient.
    static func combine(_ dy: Act, a: [Float], x: Act, center: [Float], k: [Float], t: [Float], into out: inout [Float]) {
        let b = x.block, blocks = x.c / x.block, plane = x.plane
        dy.data.withUnsafeBufferPointer { d in
            x.data.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<x.n {
                        for cb in 0..<blocks {
                            let base = (i * blocks + cb) * plane * b, c0 = cb * b
                            for p in 0..<plane {
                                for j in 0..<b {
                                    let e = base + p * b + j, c = c0 + j
                                    dst[e] = d[e] * a[c] + (xp[e] - center[c]) * k[c] + t[c]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Global average pooling: [N, C, H, W] → [N, C] (row-major).
    static func mean(_ x: Act) -> [Float] {
        let b = x.block, blocks = x.c / x.block, plane = x.plane, c = x.c
        var y = [Float](repeating: 0, count: x.n * c)
        let inv = 1 / Float(plane)
        x.data.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { out in
                for i in 0..<x.n {
                    for cb in 0..<blocks {
                        let base = (i * blocks + cb) * plane * b, o = i * c + cb * b
                        for p in 0..<plane {
                            for j in 0..<b { out[o + j] += src[base + p * b + j] }
                        }
                        for j in 0..<b { out[o + j] *= inv }
                    }
                }
            }
        }
        return y
    }

    /// The backward of `mean`: dy [N, C] / plane at every position, in layout `g.block`.
    static func spread(_ dy: [Float], like g: Geometry) -> Act {
        var dx = Act(uninitializedN: g.n, c: g.c, h: g.h, w: g.w, block: g.block)
        let b = g.block, blocks = g.c / g.block, plane = g.plane, c = g.c
        let inv = 1 / Float(plane)
        dy.withUnsafeBufferPointer { d in
            dx.data.withUnsafeMutableBufferPointer { out in
                for i in 0..<g.n {
                    for cb in 0..<blocks {
                        let base = (i * blocks + cb) * plane * b, o = i * c + cb * b
                        for p in 0..<plane {
                            for j in 0..<b { out[base + p * b + j] = d[o + j] * inv }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// g·(offset + M), M [N, 1, h, w] (plain) broadcast over the channels of g.
    static func scaled(_ g: Act, byMap m: Act, offset: Float) -> Act {
        var out = Act(uninitializedN: g.n, c: g.c, h: g.h, w: g.w, block: g.block)
        let b = g.block, blocks = g.c / g.block, plane = g.plane
        g.data.withUnsafeBufferPointer { src in
            m.data.withUnsafeBufferPointer { mp in
                out.data.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<g.n {
                        for cb in 0..<blocks {
                            let base = (i * blocks + cb) * plane * b
                            for p in 0..<plane {
                                let s = offset + mp[i * plane + p]
                                for j in 0..<b { dst[base + p * b + j] = src[base + p * b + j] * s }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The backward of `scaled`: (dL/dg, dL/dM) from dL/dout; dL/dM sums over channels.
    static func scaledBackward(_ d: Act, g: Act, map m: Act, offset: Float) -> (dg: Act, dm: [Float]) {
        var dg = Act(uninitializedN: g.n, c: g.c, h: g.h, w: g.w, block: g.block)
        var dm = [Float](repeating: 0, count: m.count)
        let b = g.block, blocks = g.c / g.block, plane = g.plane
        let dd = d.reblocked(g.block)
        dd.data.withUnsafeBufferPointer { dy in
            g.data.withUnsafeBufferPointer { gp in
                m.data.withUnsafeBufferPointer { mp in
                    dg.data.withUnsafeMutableBufferPointer { dgp in
                        dm.withUnsafeMutableBufferPointer { dmp in
                            for i in 0..<g.n {
                                for cb in 0..<blocks {
                                    let base = (i * blocks + cb) * plane * b
                                    for p in 0..<plane {
                                        let s = offset + mp[i * plane + p]
                                        var acc: Float = 0
                                        for j in 0..<b {
                                            let k = base + p * b + j
                                            dgp[k] = dy[k] * s
                                            acc += dy[k] * gp[k]
                                        }
                                        dmp[i * plane + p] += acc
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dg, dm)
    }
}
