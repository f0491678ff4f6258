public enum NTKitVersion { public static let string = "0.2.0" }
