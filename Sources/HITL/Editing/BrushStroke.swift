// One brush stroke as the person made it: the tool, the radius and the path of the disc centre.

/// Paint raises attention toward 1.0, erase lowers it toward 0.0 (the authors' "add"/"remove").
public enum BrushTool: String, Sendable, CaseIterable {
    case paint, erase

    /// The value a fully covered map cell takes.
    public var target: Float { self == .paint ? 1 : 0 }

    /// The other tool (right-button drags use it).
    public var opposite: BrushTool { self == .paint ? .erase : .paint }
}

/// A point in image pixel coordinates: x grows to the right, y downwards, and pixel (i, j) covers
/// [i, i+1) × [j, j+1), so the centre of pixel (i, j) is (i + 0.5, j + 0.5).
public struct BrushPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
    public init(_ x: Double, _ y: Double) { self.init(x: x, y: y) }

    public var isFinite: Bool { x.isFinite && y.isFinite }
}

public struct BrushStroke: Sendable, Equatable {
    public var tool: BrushTool
    /// Disc radius in image pixels.
    public var radius: Double
    /// Disc centres in the order the brush visited them; consecutive centres are joined (a capsule),
    /// so a fast drag leaves no gaps. One point is a single disc.
    public var points: [BrushPoint]
    /// How far a fully covered cell moves toward the tool's target, in (0, 1]: 1 takes it all the way
    /// (the authors' editor), less builds attention up (or down) over several dabs.
    public var strength: Double

    public init(tool: BrushTool, radius: Double, points: [BrushPoint], strength: Double = 1) {
        self.tool = tool
        self.radius = radius
        self.points = points
        self.strength = strength
    }
}
