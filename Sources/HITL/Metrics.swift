import ABN

/// Attention metrics of one map against a mask, both at map resolution, row-major, values in [0, 1]
/// (a mask at image resolution is first area-averaged with MapResampling.areaAverage). Definitions
/// as the ABN paper and the pointing game define them; the edge cases are choices, documented in docs/formats.md:
/// - mass in mask Σ(M·mask)/ΣM, 0 when ΣM = 0 (no attention anywhere puts none in the mask);
/// - pointing game: the argmax cell of M (the first in row-major order on ties) has mask ≥ 0.5;
/// - IoU of {M ≥ 0.5} and {mask ≥ 0.5}, 1 when both sets are empty (they agree exactly);
/// - decoy mass: mass in mask with the decoy mask.
public enum AttentionMetrics {
    public static func massInMask(map: [Float], mask: [Float]) -> Double {
        precondition(map.count == mask.count)
        var inside = 0.0, total = 0.0
        for i in map.indices { inside += Double(map[i]) * Double(mask[i]); total += Double(map[i]) }
        return total > 0 ? inside / total : 0
    }

    public static func pointingGame(map: [Float], mask: [Float]) -> Bool {
        precondition(map.count == mask.count)
        guard !map.isEmpty else { return false }
        return mask[argmax(map)] >= 0.5
    }

    public static func iou(map: [Float], mask: [Float]) -> Double {
        precondition(map.count == mask.count)
        var intersection = 0, union = 0
        for i in map.indices {
            let a = map[i] >= 0.5, b = mask[i] >= 0.5
            if a && b { intersection += 1 }
            if a || b { union += 1 }
        }
        return union == 0 ? 1 : Double(intersection) / Double(union)
    }

    public static func decoyMass(map: [Float], decoy: [Float]) -> Double {
        massInMask(map: map, mask: decoy)
    }
}
