import Foundation

/// A task's fixture folder: what may be in it, and how it is copied into a trial's working folder.
/// Only regular files, folders and symbolic links are copied; anything else (a FIFO would block the
/// copy forever, a device or socket means nothing in a copy) is a `validate` error.
public enum Fixture {
  /// The paths under `folder`, relative to it, that are neither regular files, folders nor links.
  public static func unsupportedEntries(in folder: String, limit: Int = 5) -> [String] {
    var found: [String] = []
    func walk(_ relative: String) {
      guard found.count < limit else { return }
      let path = relative.isEmpty ? folder : "\(folder)/\(relative)"
      for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() {
        let child = relative.isEmpty ? name : "\(relative)/\(name)"
        var info = stat()
        guard lstat("\(folder)/\(child)", &info) == 0 else { continue }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: walk(child)
        case S_IFREG, S_IFLNK: break
        default: if found.count < limit { found.append(child) }
        }
      }
    }
    walk("")
    return found
  }

  /// Copies the contents of `folder` into `destination` (which exists): files, folders and links
  /// as they are; anything else is skipped, never opened.
  public static func copy(_ folder: String, into destination: String) {
    let fm = FileManager.default
    for name in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] {
      let source = "\(folder)/\(name)"
      let target = "\(destination)/\(name)"
      var info = stat()
      guard lstat(source, &info) == 0 else { continue }
      switch info.st_mode & S_IFMT {
      case S_IFDIR:
        if mkdir(target, info.st_mode & 0o7777) == 0 { copy(source, into: target) }
      case S_IFLNK:
        if let link = try? fm.destinationOfSymbolicLink(atPath: source) { symlink(link, target) }
      case S_IFREG:
        try? fm.copyItem(atPath: source, toPath: target)
      default:
        break
      }
    }
  }
}
