#if canImport(Glibc)
import NTKit
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One axis' mapping from data values to the unit interval, with its ticks.
struct AxisScale {
  var lo: Double
  var hi: Double
  var log: Bool

  /// Whether `v` can be drawn on an axis (finite, and positive on a log axis).
  static func accepts(_ v: Double, log: Bool) -> Bool { v.isFinite && (!log || v > 0) }

  /// The user's range if valid, else the data's range padded by 5 % (a decade
  /// around a single value on a log axis, ±10 % on a linear one).
  static func fit(_ values: [Double], log: Bool, range: ClosedRange<Double>?) -> AxisScale {
    if let r = range, r.lowerBound < r.upperBound, accepts(r.lowerBound, log: log),
      accepts(r.upperBound, log: log)
    {
      return AxisScale(lo: r.lowerBound, hi: r.upperBound, log: log)
    }
    let t = values.filter { accepts($0, log: log) }.map { log ? log10($0) : $0 }
    guard var a = t.min(), var b = t.max() else {
      return log ? AxisScale(lo: 1, hi: 10, log: true) : AxisScale(lo: 0, hi: 1, log: false)
    }
    if a == b {
      if log { a -= 0.5; b += 0.5 } else if a == 0 { a = -1; b = 1 } else {
        let d = abs(a) * 0.1; a -= d; b += d
      }
    } else {
      let pad = (b - a) * 0.05; a -= pad; b += pad
    }
    return log ? AxisScale(lo: pow(10, a), hi: pow(10, b), log: true) : AxisScale(lo: a, hi: b, log: false)
  }

  /// Position of `v` in [0, 1] across the axis (outside for out-of-range values).
  func fraction(_ v: Double) -> Double {
    log ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : (v - lo) / (hi - lo)
  }

  /// Major (labelled) and minor ticks, about `target` major ones.
  func ticks(target: Int) -> (major: [Double], minor: [Double]) {
    let target = max(2, target)
    guard log else {
      var t = target, major = AxisScale.linearTicks(lo, hi, target: t)
      while major.count < 3, t < target + 4 { t += 1; major = AxisScale.linearTicks(lo, hi, target: t) }
      return (major, [])
    }
    let a = log10(lo), b = log10(hi)
    let k0 = Int(ceil(a - 1e-9)), k1 = Int(floor(b + 1e-9))
    if k1 > k0 {
      let stride = max(1, Int(ceil(Double(k1 - k0 + 1) / Double(target + 1))))
      let major = (k0...k1).filter { $0 % stride == 0 }.map { pow(10, Double($0)) }
      var minor: [Double] = []
      for k in Int(floor(a))...Int(ceil(b)) {
        let steps = stride == 1 ? (2...9).map { Double($0) * pow(10, Double(k)) } : [pow(10, Double(k))]
        minor += steps.filter { $0 >= lo * (1 - 1e-9) && $0 <= hi * (1 + 1e-9) && !major.contains($0) }
      }
      return (major, minor)
    }
    for mults in [[1.0, 2, 5], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
      var found: [Double] = []
      for k in Int(floor(a))...Int(ceil(b)) {
        for m in mults {
          let v = m * pow(10, Double(k))
          if v >= lo * (1 - 1e-9), v <= hi * (1 + 1e-9) { found.append(v) }
        }
      }
      if found.count >= 2 { return (found, []) }
    }
    return (AxisScale.linearTicks(lo, hi, target: target), [])
  }

  /// Ticks at multiples of a 1-2-5 step inside [lo, hi].
  static func linearTicks(_ lo: Double, _ hi: Double, target: Int) -> [Double] {
    guard hi > lo else { return [lo] }
    let raw = (hi - lo) / Double(max(1, target))
    let mag = pow(10, floor(log10(raw)))
    let f = raw / mag
    let nice: Double = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
    let step = nice * mag
    let i0 = Int(ceil(lo / step - 1e-9)), i1 = Int(floor(hi / step + 1e-9))
    guard i1 >= i0, i1 - i0 < 1000 else { return [lo, hi] }
    // Divide by an exact power of ten so that 3 × 0.2 prints as 0.6.
    let inverse = (1 / mag).rounded()
    return (i0...i1).map { mag < 1 ? Double($0) * nice / inverse : Double($0) * step }
  }
}

enum SVGText {
  /// Compact number for tick labels: "0", "0.5", "120", "1e-3", "2.5e4".
  static func compact(_ v: Double, exponent: Bool = false) -> String {
    if v == 0 { return "0" }
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    let a = abs(v)
    if !exponent, a >= 1e-2, a < 1e4 { return format(v, "%.6g") }
    var e = floor(log10(a))
    var m = format(v / pow(10, e), "%.3g")
    if m == "10" || m == "-10" { e += 1; m = v < 0 ? "-1" : "1" }
    return e == 0 ? m : "\(m)e\(Int(e))"
  }

  /// SVG coordinate with at most two decimals.
  static func num(_ v: Double) -> String {
    var s = format(v.isFinite ? v : 0, "%.2f")
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s == "-0" ? "0" : s
  }

  /// Escapes text for XML content and attributes; drops characters XML 1.0 forbids.
  static func escape(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
      switch u {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      case "\t", "\n", "\r": out += " "
      default: if u.value >= 0x20, u.value != 0xFFFE, u.value != 0xFFFF { out.unicodeScalars.append(u) }
      }
    }
    return out
  }

  /// Rough rendered width of `s` in a sans-serif font of `size` px.
  static func width(_ s: String, size: Double) -> Double { Double(s.count) * size * 0.62 }
}

enum Colormap {
  /// Viridis sampled at nine evenly spaced points.
  static let viridis: [(Double, Double, Double)] = [
    (68, 1, 84), (71, 45, 123), (59, 82, 139), (44, 114, 142), (33, 145, 140),
    (40, 174, 128), (94, 201, 98), (173, 220, 48), (253, 231, 37),
  ]

  /// Colour at `t` in [0, 1] (clamped), as "#rrggbb".
  static func color(_ t: Double) -> String {
    let t = t.isFinite ? min(1, max(0, t)) : 0.5
    let p = t * Double(viridis.count - 1)
    let i = min(viridis.count - 2, Int(p)), f = p - Double(i)
    let (a, b) = (viridis[i], viridis[i + 1])
    return hex(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
  }

  static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
    let digits = Array("0123456789abcdef")
    var s = "#"
    for c in [r, g, b] {
      let v = Int(min(255, max(0, c.rounded())))
      s.append(digits[v >> 4]); s.append(digits[v & 15])
    }
    return s
  }
}

/// Writes `text` to `path` atomically: a sibling temporary file, then rename.
func writeTextAtomically(_ text: String, to path: String) throws {
  let tmp = path + ".tmp-\(getpid())"
  guard let file = fopen(tmp, "wb") else {
    throw NTKitError.io(path: path, reason: "cannot create \(tmp): \(String(cString: strerror(errno)))")
  }
  let bytes = Array(text.utf8)
  let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
  let writeErrno = errno
  let closed = fclose(file)
  guard written == bytes.count, closed == 0 else {
    let reason = String(cString: strerror(written == bytes.count ? errno : writeErrno))
    unlink(tmp)
    throw NTKitError.io(path: path, reason: "write failed: \(reason)")
  }
  guard rename(tmp, path) == 0 else {
    let reason = String(cString: strerror(errno))
    unlink(tmp)
    throw NTKitError.io(path: path, reason: "cannot rename temporary file: \(reason)")
  }
}
