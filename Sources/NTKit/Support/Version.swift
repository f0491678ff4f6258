public enum NTKitVersion { public static let string = "0.3.0" }
