import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import NTKit
@testable import NTKitExperiments

/// Collects what the tests check from a parsed SVG.
private final class SVGInspector: NSObject, XMLParserDelegate {
  var rootAttributes: [String: String] = [:]
  var seriesLabels: [String] = []
  var errorBars = 0
  var texts: [String] = []
  private var current: String?

  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
              qualifiedName: String?, attributes: [String: String] = [:]) {
    if name == "svg", rootAttributes.isEmpty { rootAttributes = attributes }
    if name == "g", attributes["class"] == "series" { seriesLabels.append(attributes["data-label"] ?? "?") }
    if name == "path", attributes["class"] == "errorbar" { errorBars += 1 }
    if name == "text" { current = "" }
  }
  func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
    if name == "text", let c = current { texts.append(c); current = nil }
  }
}

final class PlotTests: XCTestCase {
  private func inspect(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGInspector {
    let parser = XMLParser(data: Data(svg.utf8))
    let inspector = SVGInspector()
    parser.delegate = inspector
    XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))", file: file, line: line)
    return inspector
  }

  private func sizePlot(_ title: String, shift: Double) -> SVGPlot {
    let sizes: [Double] = [100, 300, 1000, 3000, 10000]
    let names = ["random", "RND", "trace"]
    return SVGPlot(
      title: title, xAxis: PlotAxis(label: "training set size", logScale: true),
      yAxis: PlotAxis(label: "test loss"),
      series: names.indices.map { k in
        PlotSeries(
          label: names[k], x: sizes, y: sizes.map { 2.0 / (1 + log10($0)) + shift + 0.05 * Double(k) },
          yError: sizes.map { _ in 0.02 + 0.01 * Double(k) }, style: .lineAndMarkers)
      })
  }

  private func scatterPlot() -> SVGPlot {
    let xs = (0..<40).map { Double($0) * 0.37 + 1 }
    return SVGPlot(
      title: "NTK trace vs entropy", xAxis: PlotAxis(label: "log trace(Θ)"),
      yAxis: PlotAxis(label: "entropy (nats)"),
      series: [PlotSeries(label: "architectures", x: xs, y: xs.map { sin($0) * 3 + $0 },
                          colorValues: xs.map { 0.2 + 0.01 * $0 * $0 })],
      colorbarLabel: "min test loss")
  }

  func testStructureTitleLabelsAndErrorBars() {
    let svg = sizePlot("Figure 4 <min>", shift: 0).render()
    let info = inspect(svg)
    XCTAssertEqual(info.rootAttributes["xmlns"], "http://www.w3.org/2000/svg")
    XCTAssertNotNil(info.rootAttributes["viewBox"])
    XCTAssertTrue(svg.contains("fill=\"white\""))
    XCTAssertEqual(info.seriesLabels, ["random", "RND", "trace"])
    XCTAssertEqual(info.errorBars, 15)
    XCTAssertTrue(info.texts.contains("Figure 4 <min>"))
    XCTAssertTrue(info.texts.contains("training set size"))
    XCTAssertTrue(info.texts.contains("test loss"))
    XCTAssertTrue(info.texts.contains("1e3"))
  }

  func testEscapesLabels() {
    let plot = SVGPlot(
      title: "a & b", xAxis: PlotAxis(label: "x<y"), yAxis: PlotAxis(label: "\"q\""),
      series: [PlotSeries(label: "<&>", x: [1, 2], y: [3, 4])])
    let svg = plot.render()
    XCTAssertFalse(svg.contains("<&>"))
    XCTAssertTrue(svg.contains("&lt;&amp;&gt;"))
    let info = inspect(svg)
    XCTAssertEqual(info.seriesLabels, ["<&>"])
    XCTAssertTrue(info.texts.contains("x<y"))
    XCTAssertTrue(info.texts.contains("\"q\""))
  }

  func testDegenerateInputs() {
    let nan = Double.nan
    let plot = SVGPlot(
      title: "edge cases", xAxis: PlotAxis(label: "x", logScale: true), yAxis: PlotAxis(label: "y"),
      series: [
        PlotSeries(label: "empty", x: [], y: []),
        PlotSeries(label: "single", x: [5], y: [2], yError: [0.1], style: .line),
        PlotSeries(label: "constant", x: [1, 2, 3], y: [7, 7, 7], yError: [nan, 0, 1]),
        PlotSeries(label: "missing", x: [1, nan, 3, -1], y: [nan, 2, 3, 4], colorValues: [1, 1, 1, 1]),
      ])
    let info = inspect(plot.render())
    XCTAssertEqual(info.seriesLabels, ["empty", "single", "constant", "missing"])
    XCTAssertEqual(info.errorBars, 2)
    XCTAssertFalse(plot.render().lowercased().contains("nan"))
    XCTAssertEqual(inspect(SVGPlot(title: "", xAxis: PlotAxis(label: ""), yAxis: PlotAxis(label: ""), series: []).render()).seriesLabels, [])
  }

  func testCompactNumbersAndTicks() {
    XCTAssertEqual(SVGText.compact(0.5), "0.5")
    XCTAssertEqual(SVGText.compact(0.001), "1e-3")
    XCTAssertEqual(SVGText.compact(25000), "2.5e4")
    XCTAssertEqual(SVGText.compact(0.1 + 0.2), "0.3")
    XCTAssertEqual(SVGText.compact(-120), "-120")
    XCTAssertEqual(AxisScale.linearTicks(0, 1, target: 5), [0, 0.2, 0.4, 0.6, 0.8, 1])
    XCTAssertEqual(AxisScale.linearTicks(-3, 12, target: 3), [0, 5, 10])
    let log = AxisScale(lo: 50, hi: 20000, log: true).ticks(target: 5)
    XCTAssertEqual(log.major, [100, 1000, 10000])
  }

  /// Renders the two reference figures; with NTKIT_PLOT_DIR set they are kept
  /// there for a visual check (e.g. `rsvg-convert -o a.png a.svg`).
  func testFiguresWriteAtomically() throws {
    // A directory of its own: other processes' temporaries in /tmp are not this test's leftovers.
    let dir = ProcessInfo.processInfo.environment["NTKIT_PLOT_DIR"] ?? NSTemporaryDirectory() + "ntkit-plots-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { if ProcessInfo.processInfo.environment["NTKIT_PLOT_DIR"] == nil { try? FileManager.default.removeItem(atPath: dir) } }
    let scatter = dir + "/ntkit-scatter.svg", panels = dir + "/ntkit-panels.svg"
    try scatterPlot().write(to: scatter)
    let figure = SVGFigure(panels: [sizePlot("min test loss", shift: 0), sizePlot("final test loss", shift: 0.2)],
                           columns: 2, title: "Figure 4")
    try figure.write(to: panels)
    let info = inspect(try String(contentsOfFile: panels, encoding: .utf8))
    XCTAssertEqual(info.seriesLabels.count, 6)
    XCTAssertEqual(info.errorBars, 30)
    XCTAssertTrue(inspect(try String(contentsOfFile: scatter, encoding: .utf8)).texts.contains("min test loss"))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
    XCTAssertEqual(leftovers, [])
    if ProcessInfo.processInfo.environment["NTKIT_PLOT_DIR"] == nil {
      try? FileManager.default.removeItem(atPath: scatter); try? FileManager.default.removeItem(atPath: panels)
    }
    XCTAssertThrowsError(try figure.write(to: "/nonexistent-dir/x.svg")) { error in
      guard case NTKitError.io = error else { return XCTFail("expected .io, got \(error)") }
    }
  }
}
