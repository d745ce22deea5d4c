import ABNData
import Foundation

/// A mask file as a mask at map resolution: loaded at the model's input size (as its image is, so
/// the pixels line up) and area-averaged onto the map grid. Both eval's metrics and import-maps'
/// edits use this, so a mask means the same map in each.
public func loadMapMask(_ url: URL, inputHeight: Int, inputWidth: Int, mapHeight: Int, mapWidth: Int) throws -> [Float] {
    MapResampling.areaAverage(try loadMask(url, height: inputHeight, width: inputWidth),
                              height: inputHeight, width: inputWidth, toHeight: mapHeight, toWidth: mapWidth)
}

/// An image as people see it beside its map: RGB, resized bilinearly to the model's input size (the
/// area the map covers), not normalised. The review canvas and the export both show this.
public func loadDisplayImage(_ url: URL, width: Int, height: Int) throws -> Image {
    try ImageIO.decode(fileAt: url).converted(toChannels: 3).resizedBilinear(width: width, height: height)
}
