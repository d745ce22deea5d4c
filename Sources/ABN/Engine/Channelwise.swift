import Foundation
/// Per-channel and per-position loops that work in every layout of `Act`. Element (sample i,
/// channel cb·B + j, position p) sits at ((i·C/B + cb)·plane + p)·B + j, which is NCHW for B = 1
/// and oneDNN's nChw{B}c otherwise, so one loop nest serves both (BatchNorm's hot loops excepted).
enum Channelwise {
    // BatchNorm's loops: in plain layout (block 1) each (sample, channel) plane is one run with
    // scalar parameters (PlaneRun); in blocked layouts (8 or 16) each (sample, channel block) row is
    // runs of eight channels, one vector per pixel, with a parameter per lane (LaneRun).

    // Both run on the team, each thread a share of the channels with every sample of a channel in
    // order, so a body may accumulate per channel (the same sums in the same order on any thread count)
    // and must write only its own channels.

    /// body(channel, offset of its plane) for every (sample, channel) plane of a plain (block 1) `x`.
    @inline(__always)
    private static func forEachPlainPlane(_ x: Act, _ body: (_ channel: Int, _ offset: Int) -> Void) {
        Team.forEachShare(of: x.c, work: x.count) { channels in
            for ch in channels {
                for i in 0..<x.n { body(ch, (i * x.c + ch) * x.plane) }
            }
        }
    }

    /// body(first channel, offset of its first value) for every eight channels of every (sample,
    /// channel block) row of a blocked `x`.
    @inline(__always)
    private static func forEachLaneRun(_ x: Act, _ body: (_ channel: Int, _ offset: Int) -> Void) {
        let b = x.block, blocks = x.c / b
        precondition(b % 8 == 0, "blocked layouts are oneDNN's nChw8c or nChw16c")
        Team.forEachShare(of: x.c / 8, work: x.count) { runs in
            for run in runs {
                let ch = run * 8, cb = ch / b, half = ch % b
                for i in 0..<x.n { body(ch, (i * blocks + cb) * x.plane * b + half) }
            }
        }
    }

    /// out = (x − center[c])·scale[c] + shift[c] (+ residual) (then ReLU): BatchNorm's
    /// normalisation and what follows it in a ResNet (center nil: 0).
    static func affine(_ x: Act, scale: [Float], shift: [Float], center: [Float]? = nil, residual: Act? = nil,
                       relu: Bool = false, into out: inout [Float]) {
        let b = x.block, plane = x.plane
        let center = center ?? [Float](repeating: 0, count: x.c)
        // shift − center·scale folds the centring into one multiply-add per element.
        let offset = (0..<x.c).map { shift[$0] - center[$0] * scale[$0] }
        let r = residual?.data ?? []
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                r.withUnsafeBufferPointer { rp in
                    scale.withUnsafeBufferPointer { sp in
                        offset.withUnsafeBufferPointer { op in
                            let rBase = residual == nil ? nil : UnsafePointer(rp.baseAddress!)
                            if b == 1 {
                                forEachPlainPlane(x) { ch, e in
                                    PlaneRun.affine(src.baseAddress! + e, dst.baseAddress! + e, residual: rBase.map { $0 + e },
                                                    count: plane, scale: sp[ch], offset: op[ch], floor: relu ? 0 : -.infinity)
                                }
                            } else {
                                forEachLaneRun(x) { ch, e in
                                    LaneRun.affine(src.baseAddress! + e, dst.baseAddress! + e, residual: rBase.map { $0 + e },
                                                   pixels: plane, stride: b, scale: LaneRun.lanes(sp, ch), offset: LaneRun.lanes(op, ch),
                                                   relu: relu)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Per channel, Σ x·(y − center) over samples and positions (y nil: Σ x), with Float partial
    /// sums per row and Double totals, so long reductions stay accurate.
    static func sums(_ x: Act, times y: Act? = nil, center: [Float]? = nil) -> [Double] {
        let b = x.block, plane = x.plane
        var total = [Double](repeating: 0, count: x.c)
        let center = center ?? [Float](repeating: 0, count: x.c)
        let other = y ?? x
        total.withUnsafeMutableBufferPointer { total in
            x.data.withUnsafeBufferPointer { xp in
                other.data.withUnsafeBufferPointer { yp in
                    center.withUnsafeBufferPointer { cp in
                        if b == 1 {
                            forEachPlainPlane(x) { ch, e in
                                let yRun: UnsafePointer<Float>? = y == nil ? nil : yp.baseAddress! + e
                                total[ch] += Double(PlaneRun.sum(xp.baseAddress! + e, times: yRun, center: cp[ch], count: plane))
                            }
                        } else {
                            forEachLaneRun(x) { ch, e in
                                let yRun: UnsafePointer<Float>? = y == nil ? nil : yp.baseAddress! + e
                                let row = LaneRun.sum(xp.baseAddress! + e, times: yRun, center: LaneRun.lanes(cp, ch), pixels: plane, stride: b)
                                for j in 0..<8 { total[ch + j] += Double(row[j]) }
                            }
                        }
                    }
                }
            }
        }
        return total
    }

    /// Per channel, (Σ g, Σ g·(x − center)) with g = dy where mask > 0, else 0 (mask nil: g = dy;
    /// the backward of a fused ReLU): the sums BatchNorm's backward needs, in one pass.
    static func gradientSums(_ dy: Act, mask: Act?, x: Act, center: [Float]) -> ([Double], [Double]) {
        let b = x.block, plane = x.plane
        var sumG = [Double](repeating: 0, count: x.c), sumGX = sumG
        let maskData = mask?.data ?? []
        sumG.withUnsafeMutableBufferPointer { sumG in
            sumGX.withUnsafeMutableBufferPointer { sumGX in
                dy.data.withUnsafeBufferPointer { d in
                    x.data.withUnsafeBufferPointer { xp in
                        maskData.withUnsafeBufferPointer { mp in
                            center.withUnsafeBufferPointer { cp in
                                if b == 1 {
                                    forEachPlainPlane(x) { ch, e in
                                        let maskRun: UnsafePointer<Float>? = mask == nil ? nil : mp.baseAddress! + e
                                        let (sg, sgx) = PlaneRun.gradientSums(d.baseAddress! + e, mask: maskRun, x: xp.baseAddress! + e,
                                                                              center: cp[ch], count: plane)
                                        sumG[ch] += Double(sg)
                                        sumGX[ch] += Double(sgx)
                                    }
                                } else {
                                    forEachLaneRun(x) { ch, e in
                                        let maskRun: UnsafePointer<Float>? = mask == nil ? nil : mp.baseAddress! + e
                                        let (sg, sgx) = LaneRun.gradientSums(d.baseAddress! + e, mask: maskRun, x: xp.baseAddress! + e,
                                                                             center: LaneRun.lanes(cp, ch), pixels: plane, stride: b)
                                        for j in 0..<8 {
                                            sumG[ch + j] += Double(sg[j])
                                            sumGX[ch + j] += Double(sgx[j])
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (sumG, sumGX)
    }

    /// out = g·a[c] + (x − center[c])·k[c] + t[c], g as in `gradientSums`: BatchNorm's input gradient.
    static func combine(_ dy: Act, mask: Act?, a: [Float], x: Act, center: [Float], k: [Float], t: [Float],
                        into out: inout [Float]) {
        let b = x.block, plane = x.plane
        // (x − center)·k + t = x·k + (t − center·k).
        let offset = (0..<x.c).map { t[$0] - center[$0] * k[$0] }
        let maskData = mask?.data ?? []
        dy.data.withUnsafeBufferPointer { d in
            x.data.withUnsafeBufferPointer { xp in
                maskData.withUnsafeBufferPointer { mp in
                    out.withUnsafeMutableBufferPointer { dst in
                        a.withUnsafeBufferPointer { ap in
                            k.withUnsafeBufferPointer { kp in
                                offset.withUnsafeBufferPointer { op in
                                    if b == 1 {
                                        forEachPlainPlane(x) { ch, e in
                                            let maskRun: UnsafePointer<Float>? = mask == nil ? nil : mp.baseAddress! + e
                                            PlaneRun.combine(d.baseAddress! + e, mask: maskRun, x: xp.baseAddress! + e, dst.baseAddress! + e,
                                                             count: plane, a: ap[ch], kx: kp[ch], offset: op[ch])
                                        }
                                    } else {
                                        forEachLaneRun(x) { ch, e in
                                            let maskRun: UnsafePointer<Float>? = mask == nil ? nil : mp.baseAddress! + e
                                            LaneRun.combine(d.baseAddress! + e, mask: maskRun, x: xp.baseAddress! + e, dst.baseAddress! + e,
                                                            pixels: plane, stride: b, a: LaneRun.lanes(ap, ch), kx: LaneRun.lanes(kp, ch),
                                                            offset: LaneRun.lanes(op, ch))
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

    /// body(sample, channel block, pixel, offset of the pixel's `block` channels) for every pixel of every
    /// channel block of `x`, a sample's blocks in order, the samples shared over the team: a body may
    /// accumulate per sample (the same sums in the same order on any thread count) and must write only
    /// its own sample's.
    @inline(__always)
    private static func forEachBlockPixel(_ x: Act, work: Int,
                                          _ body: (_ sample: Int, _ channelBlock: Int, _ pixel: Int, _ offset: Int) -> Void) {
        let b = x.block, blocks = x.c / x.block, plane = x.plane
        Team.forEachShare(of: x.n, work: work) { samples in
            for i in samples {
                for cb in 0..<blocks {
                    let base = (i * blocks + cb) * plane * b
                    for p in 0..<plane { body(i, cb, p, base + p * b) }
                }
            }
        }
    }

    /// g·(offset + M), M [N, 1, h, w] (plain) broadcast over the channels of g.
    static func scaled(_ g: Act, byMap m: Act, offset: Float) -> Act {
        var out = Act(uninitializedN: g.n, c: g.c, h: g.h, w: g.w, block: g.block)
        let b = g.block, plane = g.plane
        g.data.withUnsafeBufferPointer { src in
            m.data.withUnsafeBufferPointer { mp in
                out.data.withUnsafeMutableBufferPointer { dst in
                    forEachBlockPixel(g, work: 2 * g.count) { i, _, p, e in
                        let s = offset + mp[i * plane + p]
                        for j in 0..<b { dst[e + j] = src[e + j] * s }
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
        let b = g.block, plane = g.plane
        let dd = d.reblocked(g.block)
        dd.data.withUnsafeBufferPointer { dy in
            g.data.withUnsafeBufferPointer { gp in
                m.data.withUnsafeBufferPointer { mp in
                    dg.data.withUnsafeMutableBufferPointer { dgp in
                        dm.withUnsafeMutableBufferPointer { dmp in
                            forEachBlockPixel(g, work: 3 * g.count) { i, _, p, e in
                                let s = offset + mp[i * plane + p]
                                var acc: Float = 0
                                for j in 0..<b {
                                    dgp[e + j] = dy[e + j] * s
                                    acc += dy[e + j] * gp[e + j]
                                }
                                dmp[i * plane + p] += acc
                            }
                        }
                    }
                }
            }
        }
        return (dg, dm)
    }

    /// x·s[i, c] (+ residual) (then ReLU), s [N·C] one factor per sample and channel: squeeze-excitation's
    /// scaling with the block's shortcut and ReLU in the same pass.
    static func excited(_ x: Act, factors s: [Float], residual: Act? = nil, relu: Bool = false) -> Act {
        var out = Act(uninitializedN: x.n, c: x.c, h: x.h, w: x.w, block: x.block)
        let b = x.block
        let r = residual?.reblocked(b).data ?? []
        let floor: Float = relu ? 0 : -.infinity
        x.data.withUnsafeBufferPointer { src in
            r.withUnsafeBufferPointer { rp in
                s.withUnsafeBufferPointer { sp in
                    out.data.withUnsafeMutableBufferPointer { dst in
                        forEachBlockPixel(x, work: 3 * x.count) { i, cb, _, e in
                            let f = i * x.c + cb * b
                            if residual == nil {
                                for j in 0..<b { dst[e + j] = max(src[e + j] * sp[f + j], floor) }
                            } else {
                                for j in 0..<b { dst[e + j] = max(src[e + j] * sp[f + j] + rp[e + j], floor) }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The backward of `excited` without its residual and ReLU: (dL/dx = dv·s, dL/ds [N·C] = Σ over
    /// positions of dv·x), dv in any layout, dx in x's.
    static func excitedBackward(_ dv: Act, input x: Act, factors s: [Float]) -> (dx: Act, ds: [Float]) {
        let d = dv.reblocked(x.block)
        var dx = Act(uninitializedN: x.n, c: x.c, h: x.h, w: x.w, block: x.block)
        var ds = [Float](repeating: 0, count: x.n * x.c)
        let b = x.block
        d.data.withUnsafeBufferPointer { dp in
            x.data.withUnsafeBufferPointer { xp in
                s.withUnsafeBufferPointer { sp in
                    dx.data.withUnsafeMutableBufferPointer { out in
                        ds.withUnsafeMutableBufferPointer { dsp in
                            forEachBlockPixel(x, work: 3 * x.count) { i, cb, _, e in
                                let f = i * x.c + cb * b
                                for j in 0..<b {
                                    out[e + j] = dp[e + j] * sp[f + j]
                                    dsp[f + j] += dp[e + j] * xp[e + j]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, ds)
    }

    /// Σ over channels of log(1 + x) at each position: [N, C, h, w] (x ≥ 0, any layout) → [N, 1, h, w]
    /// plain. SE-ResNet's attention map.
    static func logSum(_ x: Act) -> Act {
        var m = Act(zerosN: x.n, c: 1, h: x.h, w: x.w)
        let b = x.block, plane = x.plane
        x.data.withUnsafeBufferPointer { xp in
            m.data.withUnsafeMutableBufferPointer { mp in
                forEachBlockPixel(x, work: x.count) { i, _, p, e in
                    var acc: Float = 0
                    for j in 0..<b { acc += log(1 + xp[e + j]) }
                    mp[i * plane + p] += acc
                }
            }
        }
        return m
    }

    /// The backward of `logSum`: dL/dx = dL/dM / (1 + x), in x's layout.
    static func logSumBackward(_ dm: [Float], input x: Act) -> Act {
        var dx = Act(uninitializedN: x.n, c: x.c, h: x.h, w: x.w, block: x.block)
        let b = x.block, plane = x.plane
        x.data.withUnsafeBufferPointer { xp in
            dm.withUnsafeBufferPointer { g in
                dx.data.withUnsafeMutableBufferPointer { out in
                    forEachBlockPixel(x, work: 2 * x.count) { i, _, p, e in
                        let v = g[i * plane + p]
                        for j in 0..<b { out[e + j] = v / (1 + xp[e + j]) }
                    }
                }
            }
        }
        return dx
    }
}
