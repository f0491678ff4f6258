import NTKit
/// Correlation matrices as heatmaps, side by side (the paper's Figure 3):
/// each cell coloured on a diverging scale from −1 (blue) through 0 (white)
/// to +1 (red), with its value printed; nil entries (a constant variable) grey.
/// Each matrix is a `<g class="series" data-label="…">` group of `<rect class="cell">`.
public struct SVGHeatmap: Sendable {
  public struct Panel: Sendable {
    public var title: String
    public var matrix: [[Double?]]
    public init(title: String, matrix: [[Double?]]) {
      self.title = title
      self.matrix = matrix
    }
  }

  public var title: String
  public var labels: [String]
  public var panels: [Panel]
  public var cell = 56.0

  public init(title: String, labels: [String], panels: [Panel]) {
    self.title = title
    self.labels = labels
    self.panels = panels
  }

  /// −1 → blue, 0 → white, +1 → red (coolwarm end points).
  static func color(_ v: Double) -> String {
    let t = min(1, max(-1, v))
    let (end, f) = t < 0 ? ((59.0, 76.0, 192.0), -t) : ((180.0, 4.0, 38.0), t)
    return Colormap.hex(247 + (end.0 - 247) * f, 247 + (end.1 - 247) * f, 247 + (end.2 - 247) * f)
  }

  public func render() -> String {
    let n = labels.count
    let labelWidth = (labels.map { SVGText.width($0, size: 12) }.max() ?? 40) + 16
    let grid = cell * Double(n)
    let panelWidth = labelWidth + grid + 24
    let top = 64.0, bottom = labelWidth * 0.75 + 12  // rotated (−45°) column labels
    let width = panelWidth * Double(panels.count) + 16, height = top + grid + bottom
    var svg = """
      <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(SVGText.num(width)) \(SVGText.num(height))" \
      width="\(SVGText.num(width))" height="\(SVGText.num(height))" font-family="DejaVu Sans, Arial, sans-serif">
      <rect x="0" y="0" width="\(SVGText.num(width))" height="\(SVGText.num(height))" fill="white"/>
      <text x="\(SVGText.num(width / 2))" y="24" font-size="16" font-weight="bold" text-anchor="middle">\(SVGText.escape(title))</text>

      """
    for (p, panel) in panels.enumerated() {
      let x0 = Double(p) * panelWidth + labelWidth + 8
      svg += "<g class=\"series\" data-label=\"\(SVGText.escape(panel.title))\">\n"
      svg += "<text x=\"\(SVGText.num(x0 + grid / 2))\" y=\"50\" font-size=\"14\" font-weight=\"bold\" text-anchor=\"middle\">\(SVGText.escape(panel.title))</text>\n"
      for i in 0..<n {
        let y = top + Double(i) * cell
        svg += "<text x=\"\(SVGText.num(x0 - 6))\" y=\"\(SVGText.num(y + cell / 2 + 4))\" font-size=\"12\" text-anchor=\"end\">\(SVGText.escape(labels[i]))</text>\n"
        for j in 0..<n {
          let x = x0 + Double(j) * cell
          let value = i < panel.matrix.count && j < panel.matrix[i].count ? panel.matrix[i][j] : nil
          let fill = value.map { SVGHeatmap.color($0) } ?? "#bbbbbb"
          svg += "<rect class=\"cell\" x=\"\(SVGText.num(x))\" y=\"\(SVGText.num(y))\" width=\"\(SVGText.num(cell))\" height=\"\(SVGText.num(cell))\" fill=\"\(fill)\" stroke=\"white\"/>\n"
          let text = value.map { format($0, "%.2f") } ?? "n/a"
          let ink = (value.map { abs($0) > 0.6 } ?? false) ? "white" : "black"
          svg += "<text x=\"\(SVGText.num(x + cell / 2))\" y=\"\(SVGText.num(y + cell / 2 + 4))\" font-size=\"12\" text-anchor=\"middle\" fill=\"\(ink)\">\(text)</text>\n"
        }
      }
      for j in 0..<n {
        let x = x0 + Double(j) * cell + cell / 2, y = top + grid + 8
        svg += "<text x=\"\(SVGText.num(x))\" y=\"\(SVGText.num(y))\" font-size=\"12\" text-anchor=\"end\" transform=\"rotate(-45 \(SVGText.num(x)) \(SVGText.num(y)))\">\(SVGText.escape(labels[j]))</text>\n"
      }
      svg += "</g>\n"
    }
    return svg + "</svg>\n"
  }
}
