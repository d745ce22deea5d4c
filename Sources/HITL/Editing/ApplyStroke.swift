// The brush's effect on a map: each cell moves toward the tool's target by the fraction of the
// cell the stroke covers times the brush strength s, v' = v + s·f·(target − v). At full strength a
// fully covered cell takes the target (the authors' editor sets 1.0/0.0); a partly covered one
// moves part of the way, as if the painted image-resolution mask had been area-averaged down to map
// resolution.

/// The map after `stroke`; the image size says how map cells relate to image pixels. A malformed
/// map or a non-positive image size returns the map unchanged; the result's values are in [0, 1].
public func applyStroke(_ stroke: BrushStroke, to map: AttentionMap,
                        imageWidth: Int, imageHeight: Int) -> AttentionMap {
    guard map.isWellFormed,
          let fractions = StrokeCoverage.fractions(of: stroke, mapWidth: map.width, mapHeight: map.height,
                                                   imageWidth: imageWidth, imageHeight: imageHeight)
    else { return map }
    let target = stroke.tool.target
    let strength = stroke.strength.isFinite ? min(1, max(0, stroke.strength)) : 1
    var result = map.clamped()
    for i in result.values.indices where fractions[i] > 0 {
        let v = result.values[i]
        let moved = v + Float(strength * fractions[i]) * (target - v)
        result.values[i] = min(1, max(0, moved))
    }
    return result
}
