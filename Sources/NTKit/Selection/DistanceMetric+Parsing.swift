/// The distances `ntk select` accepts: the row-wise metrics of the device
/// plus Mahalanobis, which whitens both representations first.
public enum SelectionDistance: Sendable, Equatable {
  /// A plain row-wise metric (mse, l1, l2, lp:<p>, cosine, angular).
  case metric(DistanceMetric)
  /// l2 after whitening with a Cholesky factor L of the inverse covariance of
  /// F(pool) (L·Lᵀ = Σ⁻¹): √((a − b)ᵀ Σ⁻¹ (a − b)).
  case mahalanobis

  /// The valid names, as error messages list them.
  public static let names = ["mse", "l1", "l2", "lp:<p>", "cosine", "angular", "mahalanobis"]

  /// Parses a name (case-insensitive); `lp:<p>` takes a finite p > 0.
  public init(parsing text: String) throws {
    let name = text.lowercased()
    switch name {
    case "mse": self = .metric(.mse)
    case "l1": self = .metric(.l1)
    case "l2": self = .metric(.l2)
    case "cosine": self = .metric(.cosine)
    case "angular": self = .metric(.angular)
    case "mahalanobis": self = .mahalanobis
    default:
      if name.hasPrefix("lp:") {
        guard let p = Double(String(name.dropFirst(3))), p.isFinite, p > 0 else {
          throw NTKitError.invalidArgument("distance '\(text)': lp:<p> needs a finite number p > 0, e.g. lp:3")
        }
        self = .metric(.lp(p))
        return
      }
      throw NTKitError.invalidArgument(
        "unknown distance '\(text)'; valid distances: \(SelectionDistance.names.joined(separator: ", "))")
    }
  }

  /// The canonical name (`lp:3` etc.), which `init(parsing:)` reads back.
  public var name: String {
    switch self {
    case .mahalanobis: return "mahalanobis"
    case .metric(let m): return m.name
    }
  }
}

extension DistanceMetric {
  /// The canonical name of the metric.
  public var name: String {
    switch self {
    case .mse: return "mse"
    case .l1: return "l1"
    case .l2: return "l2"
    case .lp(let p): return "lp:\(p == p.rounded() && abs(p) < 1e15 ? String(Int(p)) : "\(p)")"
    case .cosine: return "cosine"
    case .angular: return "angular"
    }
  }
}
