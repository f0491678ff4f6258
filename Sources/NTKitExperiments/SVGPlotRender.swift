import NTKit
/// Layout and drawing of one `SVGPlot` panel (the SVG body, without `<svg>`).
extension SVGPlot {
  private struct Point { var i: Int; var x: Double; var y: Double }
  private struct Frame { var l, t, r, b: Double; var w: Double { r - l }; var h: Double { b - t } }

  private static func error(_ s: PlotSeries, _ i: Int) -> Double? {
    guard let e = s.yError, i < e.count, e[i].isFinite, e[i] > 0 else { return nil }
    return e[i]
  }

  func body(idPrefix p: String) -> String {
    typealias T = SVGText
    let W = Double(max(width, 160)), H = Double(max(height, 120))
    let (xl, yl) = (xAxis.logScale, yAxis.logScale)
    let pts: [[Point]] = series.map { s in
      (0..<min(s.x.count, s.y.count)).compactMap { i in
        AxisScale.accepts(s.x[i], log: xl) && AxisScale.accepts(s.y[i], log: yl)
          ? Point(i: i, x: s.x[i], y: s.y[i]) : nil
      }
    }
    var yValues: [Double] = [], cValues: [Double] = []
    for (s, ps) in zip(series, pts) {
      for q in ps {
        yValues.append(q.y)
        if let e = Self.error(s, q.i) { yValues += [q.y - e, q.y + e] }
        if let c = s.colorValues, q.i < c.count, c[q.i].isFinite { cValues.append(c[q.i]) }
      }
    }
    let xs = AxisScale.fit(pts.flatMap { $0.map(\.x) }, log: xl, range: xAxis.range)
    let ys = AxisScale.fit(yValues, log: yl, range: yAxis.range)
    let hasColorbar = series.contains { $0.colorValues != nil }
    let cs: AxisScale = {
      guard let a = cValues.min(), let b = cValues.max(), a < b else { return .fit(cValues, log: false, range: nil) }
      return AxisScale(lo: a, hi: b, log: false)
    }()

    // Margins: title on top, tick labels and axis labels left and below,
    // colorbar and (when it would cover data) the legend on the right.
    let top = title.isEmpty ? 14.0 : 40.0
    let bottom = 35 + (xAxis.label.isEmpty ? 0 : 22.0)
    let plotH = max(20, H - top - bottom)
    let yTicks = ys.ticks(target: Int(plotH / 55))
    let yTickW = Self.labels(yTicks.major, log: yl).map { T.width($0, size: 12) }.max() ?? 0
    let left = 10 + (yAxis.label.isEmpty ? 0 : 22) + yTickW + 9
    let cTicks = hasColorbar ? AxisScale.linearTicks(cs.lo, cs.hi, target: Int(plotH / 55)) : []
    let cTickW = cTicks.map { T.width(T.compact($0), size: 12) }.max() ?? 0
    let cbW = hasColorbar ? 16 + 14 + 7 + cTickW + (colorbarLabel.map { $0.isEmpty ? 0 : 23 } ?? 0) + 4 : 0
    let entries = series.indices.filter { !series[$0].label.isEmpty }
    let entryW = 42 + (entries.map { T.width(series[$0].label, size: 12) }.max() ?? 0) + 10
    // Legend outside: on the right when narrow enough, else below in columns.
    let below = entryW > 0.3 * W
    let legCols = below ? max(1, min(entries.count, Int((W - 20) / entryW))) : 1
    var legW = entryW, legH = Double(entries.count) * 18 + 10
    func frame(outside: Bool) -> Frame {
      let right = 20 + cbW + (outside && !below ? entryW + 8 : 0)
      let lower = outside && below ? Double((entries.count + legCols - 1) / legCols) * 18 + 16 : 0
      return Frame(l: left, t: top, r: max(left + 40, W - right), b: top + max(20, plotH - lower))
    }
    var fr = frame(outside: false)
    func px(_ v: Double) -> Double { fr.l + xs.fraction(v) * fr.w }
    func py(_ v: Double) -> Double { fr.b - ys.fraction(v) * fr.h }

    // Legend: the emptiest inside corner, or outside if every corner would
    // cover a marker, an error bar end or a line.
    var legend: (x: Double, y: Double)?
    var legendCols = 1
    if !entries.isEmpty {
      var samples: [(Double, Double)] = []
      for (s, ps) in zip(series, pts) {
        for (n, q) in ps.enumerated() {
          samples.append((px(q.x), py(q.y)))
          if let e = Self.error(s, q.i) {
            samples.append((px(q.x), py(q.y + e)))
            if AxisScale.accepts(q.y - e, log: yl) { samples.append((px(q.x), py(q.y - e))) }
          }
          if s.style != .markers, n > 0, ps[n - 1].i == q.i - 1 {
            let (x0, y0, x1, y1) = (px(ps[n - 1].x), py(ps[n - 1].y), px(q.x), py(q.y))
            let k = max(1, Int(((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot() / 5))
            for j in 1..<k + 1 { let f = Double(j) / Double(k); samples.append((x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)) }
          }
        }
      }
      let corners = [
        (fr.r - 8 - legW, fr.t + 8), (fr.l + 8, fr.t + 8),
        (fr.r - 8 - legW, fr.b - 8 - legH), (fr.l + 8, fr.b - 8 - legH),
      ]
      let counts = corners.map { c in
        samples.filter { $0.0 > c.0 - 5 && $0.0 < c.0 + legW + 5 && $0.1 > c.1 - 5 && $0.1 < c.1 + legH + 5 }.count
      }
      let best = counts.indices.min { counts[$0] < counts[$1] }!
      if counts[best] == 0, legW < fr.w * 0.6, legH < fr.h * 0.7 {
        legend = corners[best]
      } else if below {
        fr = frame(outside: true)
        legendCols = legCols
        legW = entryW * Double(legCols)
        legH = Double((entries.count + legCols - 1) / legCols) * 18 + 10
        legend = ((W - legW) / 2, H - legH - 4)
      } else {
        fr = frame(outside: true)
        legend = (fr.r + cbW + 8, fr.t)
      }
    }

    var o = "<defs><clipPath id=\"\(p)clip\"><rect x=\"\(T.num(fr.l))\" y=\"\(T.num(fr.t))\" "
    o += "width=\"\(T.num(fr.w))\" height=\"\(T.num(fr.h))\"/></clipPath>"
    if hasColorbar {
      o += "<linearGradient id=\"\(p)cmap\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
      for k in Colormap.viridis.indices {
        let f = Double(k) / Double(Colormap.viridis.count - 1)
        o += "<stop offset=\"\(T.num(f))\" stop-color=\"\(Colormap.color(f))\"/>"
      }
      o += "</linearGradient>"
    }
    o += "</defs>\n"

    // Grid, then the series, then the frame and ticks on top.
    o += "<g class=\"grid\" stroke=\"#e8e8e8\" stroke-width=\"1\">\n"
    let xTicks = xs.ticks(target: Int(fr.w / 80))
    for v in xTicks.major { o += "<path d=\"M\(T.num(px(v))) \(T.num(fr.t))V\(T.num(fr.b))\"/>\n" }
    for v in yTicks.major { o += "<path d=\"M\(T.num(fr.l)) \(T.num(py(v)))H\(T.num(fr.r))\"/>\n" }
    o += "</g>\n"

    for (k, (s, ps)) in zip(series, pts).enumerated() {
      let color = T.escape(s.color ?? Self.palette[k % Self.palette.count])
      o += "<g class=\"series\" data-label=\"\(T.escape(s.label))\" clip-path=\"url(#\(p)clip)\">\n"
      if s.style != .markers, ps.count > 1 {
        var d = ""
        for (n, q) in ps.enumerated() {
          let cont = n > 0 && ps[n - 1].i == q.i - 1
          d += "\(cont ? "L" : "M")\(T.num(px(q.x))) \(T.num(py(q.y)))"
        }
        o += "<path class=\"line\" d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" stroke-linejoin=\"round\"/>\n"
      }
      for q in ps {
        guard let e = Self.error(s, q.i) else { continue }
        let x = px(q.x), hi = py(q.y + e)
        var d = "M\(T.num(x - 4)) \(T.num(hi))H\(T.num(x + 4))M\(T.num(x)) \(T.num(hi))"
        if AxisScale.accepts(q.y - e, log: yl) {
          let lo = py(q.y - e)
          d += "V\(T.num(lo))M\(T.num(x - 4)) \(T.num(lo))H\(T.num(x + 4))"
        } else {
          d += "V\(T.num(fr.b + 2))"
        }
        o += "<path class=\"errorbar\" d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.3\"/>\n"
      }
      if s.style != .line || ps.count == 1 {
        for q in ps {
          var fill = color, stroke = " stroke=\"white\" stroke-width=\"0.6\""
          if let c = s.colorValues, q.i < c.count, c[q.i].isFinite {
            fill = Colormap.color(cs.fraction(c[q.i])); stroke = " stroke=\"#333\" stroke-width=\"0.5\""
          }
          o += marker(k, px(q.x), py(q.y), 4, " fill=\"\(fill)\"\(stroke)")
        }
      }
      o += "</g>\n"
    }

    o += "<rect class=\"frame\" x=\"\(T.num(fr.l))\" y=\"\(T.num(fr.t))\" width=\"\(T.num(fr.w))\" "
    o += "height=\"\(T.num(fr.h))\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n"
    o += "<g class=\"ticks\" stroke=\"#333\" stroke-width=\"1\">\n"
    for v in xTicks.major { o += "<path d=\"M\(T.num(px(v))) \(T.num(fr.b))v5\"/>\n" }
    for v in xTicks.minor { o += "<path d=\"M\(T.num(px(v))) \(T.num(fr.b))v3\"/>\n" }
    for v in yTicks.major { o += "<path d=\"M\(T.num(fr.l)) \(T.num(py(v)))h-5\"/>\n" }
    for v in yTicks.minor { o += "<path d=\"M\(T.num(fr.l)) \(T.num(py(v)))h-3\"/>\n" }
    o += "</g>\n<g class=\"tick-labels\" fill=\"#222\">\n"
    let xLabels = Self.labels(xTicks.major, log: xl)
    let xLabelW = xLabels.map { T.width($0, size: 12) }.max() ?? 0
    let spacing = xTicks.major.count > 1 ? abs(px(xTicks.major[1]) - px(xTicks.major[0])) : .infinity
    let every = max(1, Int((xLabelW + 8) / spacing) + 1)
    for (n, v) in xTicks.major.enumerated() where n % every == 0 {
      o += svgText(px(v), fr.b + 19, xLabels[n], size: 12, attrs: " text-anchor=\"middle\"")
    }
    for (v, label) in zip(yTicks.major, Self.labels(yTicks.major, log: yl)) { o += svgText(fr.l - 8, py(v) + 4, label, size: 12, attrs: " text-anchor=\"end\"") }
    o += "</g>\n"

    if !xAxis.label.isEmpty {
      o += svgText(fr.l + fr.w / 2, fr.b + 46, xAxis.label, size: 13, attrs: " class=\"xlabel\" text-anchor=\"middle\"", fit: W - 10)
    }
    if !yAxis.label.isEmpty {
      let (x, y) = (T.num(18), T.num(fr.t + fr.h / 2))
      o += svgText(18, fr.t + fr.h / 2, yAxis.label, size: 13,
        attrs: " class=\"ylabel\" text-anchor=\"middle\" transform=\"rotate(-90 \(x) \(y))\"", fit: H - 10)
    }
    if !title.isEmpty {
      // Centred over the plot when it fits there, else over the whole panel.
      let cx = fr.l + fr.w / 2, room = 2 * min(cx, W - cx) - 10
      let fits = T.width(title, size: 15) <= room
      o += svgText(fits ? cx : W / 2, 26, title, size: 15,
        attrs: " class=\"title\" text-anchor=\"middle\" font-weight=\"bold\"", fit: fits ? room : W - 10)
    }

    if hasColorbar {
      let bx = fr.r + 16
      o += "<g class=\"colorbar\">\n<rect x=\"\(T.num(bx))\" y=\"\(T.num(fr.t))\" width=\"14\" height=\"\(T.num(fr.h))\" "
      o += "fill=\"url(#\(p)cmap)\" stroke=\"#333\" stroke-width=\"1\"/>\n"
      for v in cTicks {
        let y = fr.b - cs.fraction(v) * fr.h
        o += "<path d=\"M\(T.num(bx + 14)) \(T.num(y))h4\" stroke=\"#333\"/>\n"
        o += svgText(bx + 21, y + 4, T.compact(v), size: 12, attrs: " fill=\"#222\"")
      }
      if let label = colorbarLabel, !label.isEmpty {
        let (x, y) = (bx + 21 + cTickW + 8, fr.t + fr.h / 2)
        o += svgText(x, y, label, size: 13,
          attrs: " text-anchor=\"middle\" transform=\"rotate(90 \(T.num(x)) \(T.num(y)))\"", fit: H - 10)
      }
      o += "</g>\n"
    }

    if let (lx, ly) = legend {
      o += "<g class=\"legend\">\n<rect x=\"\(T.num(lx))\" y=\"\(T.num(ly))\" width=\"\(T.num(legW))\" height=\"\(T.num(legH))\" "
      o += "rx=\"3\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n"
      for (n, k) in entries.enumerated() {
        let s = series[k], cy = ly + 14 + 18 * Double(n / legendCols)
        let lx = lx + entryW * Double(n % legendCols)
        let color = T.escape(s.color ?? Self.palette[k % Self.palette.count])
        if s.style != .markers {
          o += "<path d=\"M\(T.num(lx + 8)) \(T.num(cy))h26\" stroke=\"\(color)\" stroke-width=\"1.8\"/>\n"
        }
        if s.style != .line {
          let fill = s.colorValues == nil ? color : Colormap.color(0.5)
          o += marker(k, lx + 21, cy, 4, " fill=\"\(fill)\" stroke=\"white\" stroke-width=\"0.6\"")
        }
        o += svgText(lx + 42, cy + 4, s.label, size: 12, attrs: " fill=\"#222\"")
      }
      o += "</g>\n"
    }
    return o
  }

  /// Tick labels; a log axis uses "1e3" style throughout once any label needs it.
  private static func labels(_ ticks: [Double], log: Bool) -> [String] {
    let plain = ticks.map { SVGText.compact($0) }
    guard log, plain.contains(where: { $0.contains("e") }) else { return plain }
    return ticks.map { SVGText.compact($0, exponent: true) }
  }

  /// Marker shape `k % 5`: circle, square, triangle, diamond, inverted triangle.
  private func marker(_ k: Int, _ x: Double, _ y: Double, _ r: Double, _ attrs: String) -> String {
    typealias T = SVGText
    func poly(_ p: [(Double, Double)]) -> String {
      "<path d=\"M" + p.map { "\(T.num(x + $0.0 * r)) \(T.num(y + $0.1 * r))" }.joined(separator: "L") + "Z\"\(attrs)/>\n"
    }
    switch k % 5 {
    case 0: return "<circle cx=\"\(T.num(x))\" cy=\"\(T.num(y))\" r=\"\(T.num(r))\"\(attrs)/>\n"
    case 1: return poly([(-0.9, -0.9), (0.9, -0.9), (0.9, 0.9), (-0.9, 0.9)])
    case 2: return poly([(0, -1.25), (1.1, 0.7), (-1.1, 0.7)])
    case 3: return poly([(0, -1.3), (1, 0), (0, 1.3), (-1, 0)])
    default: return poly([(0, 1.25), (1.1, -0.7), (-1.1, -0.7)])
    }
  }
}
