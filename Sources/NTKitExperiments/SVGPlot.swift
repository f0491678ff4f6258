import NTKit
/// One data series of an `SVGPlot`.
public struct PlotSeries: Sendable {
  public enum Style: Sendable { case markers, line, lineAndMarkers }
  /// Legend text; an empty label gets no legend entry.
  public var label: String
  public var x: [Double]
  public var y: [Double]
  /// Half-length of a vertical error bar per point (NaN or ≤ 0: no bar).
  public var yError: [Double]?
  public var style: Style
  /// Any SVG colour; nil picks the next colour of the colour-blind-safe palette.
  public var color: String?
  /// Per-point values mapped through a viridis colormap (adds a colorbar).
  public var colorValues: [Double]?

  public init(
    label: String, x: [Double], y: [Double], yError: [Double]? = nil,
    style: Style = .markers, color: String? = nil, colorValues: [Double]? = nil
  ) {
    self.label = label; self.x = x; self.y = y; self.yError = yError
    self.style = style; self.color = color; self.colorValues = colorValues
  }
}

public struct PlotAxis: Sendable {
  public var label: String
  public var logScale: Bool = false
  /// Fixed range; nil fits the data (with 5 % padding).
  public var range: ClosedRange<Double>?

  public init(label: String, logScale: Bool = false, range: ClosedRange<Double>? = nil) {
    self.label = label; self.logScale = logScale; self.range = range
  }
}

/// A dependency-free 2-D chart written as SVG: scatter, lines, error bars,
/// log axes, legend and an optional viridis colorbar. NaN points are skipped
/// (as are non-positive values on a log axis).
public struct SVGPlot: Sendable {
  public var title: String
  public var xAxis: PlotAxis
  public var yAxis: PlotAxis
  public var series: [PlotSeries]
  public var width = 640
  public var height = 440
  public var colorbarLabel: String?

  /// Okabe–Ito palette (colour-blind friendly), yellow last.
  public static let palette = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
  ]

  public init(
    title: String, xAxis: PlotAxis, yAxis: PlotAxis, series: [PlotSeries],
    width: Int = 640, height: Int = 440, colorbarLabel: String? = nil
  ) {
    self.title = title; self.xAxis = xAxis; self.yAxis = yAxis; self.series = series
    self.width = width; self.height = height; self.colorbarLabel = colorbarLabel
  }

  /// The complete SVG document.
  public func render() -> String {
    let w = max(width, 160), h = max(height, 120)
    return svgHeader(w, h) + body(idPrefix: "p0-") + "</svg>\n"
  }

  /// Writes `render()` atomically; throws `NTKitError.io` on failure.
  public func write(to path: String) throws { try writeTextAtomically(render(), to: path) }
}

/// Several `SVGPlot` panels on a grid in one SVG, filled row by row.
public struct SVGFigure: Sendable {
  public var panels: [SVGPlot]
  public var columns: Int
  /// Optional title above all panels.
  public var title: String?

  public init(panels: [SVGPlot], columns: Int, title: String? = nil) {
    self.panels = panels; self.columns = columns; self.title = title
  }

  public func render() -> String {
    let cols = max(1, min(columns, panels.count))
    let rows = (panels.count + cols - 1) / cols
    let cellW = panels.map { max($0.width, 160) }.max() ?? 160
    let rowH = (0..<rows).map { r in panels[(r * cols)..<min(panels.count, (r + 1) * cols)].map { max($0.height, 120) }.max() ?? 120 }
    let top = title == nil ? 0 : 36
    var out = svgHeader(max(1, cols * cellW), max(1, top + rowH.reduce(0, +)))
    if let t = title {
      out += svgText(Double(cols * cellW) / 2, 24, t, size: 16, attrs: " text-anchor=\"middle\" font-weight=\"bold\"", fit: Double(cols * cellW - 20))
    }
    var y = top
    for r in 0..<rows {
      for c in 0..<cols where r * cols + c < panels.count {
        out += "<g class=\"panel\" transform=\"translate(\(c * cellW),\(y))\">\n"
        out += panels[r * cols + c].body(idPrefix: "p\(r * cols + c)-") + "</g>\n"
      }
      y += rowH[r]
    }
    return out + "</svg>\n"
  }

  public func write(to path: String) throws { try writeTextAtomically(render(), to: path) }
}

func svgHeader(_ w: Int, _ h: Int) -> String {
  """
  <?xml version="1.0" encoding="UTF-8"?>
  <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)" \
  font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
  <rect x="0" y="0" width="\(w)" height="\(h)" fill="white"/>

  """
}

/// A `<text>` element; the font shrinks so the estimated width fits `fit`.
func svgText(_ x: Double, _ y: Double, _ s: String, size: Double, attrs: String = "", fit: Double = .infinity) -> String {
  let w = SVGText.width(s, size: size)
  let size = w > fit && fit > 0 ? max(7, size * fit / w) : size
  return "<text x=\"\(SVGText.num(x))\" y=\"\(SVGText.num(y))\" font-size=\"\(SVGText.num(size))\"\(attrs)>\(SVGText.escape(s))</text>\n"
}
