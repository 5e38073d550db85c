import Foundation
import ZIPFoundation

/// A minimal Office Open XML workbook (`.xlsx`): sheets of typed cells with a bold, frozen header
/// row, written into a ZIP container by ZIPFoundation. Only what evalh's export needs: text as
/// inline strings (never a formula, so ids stay text and no formula guard is needed), numbers,
/// dates as spreadsheet serials, and a few number formats (percent, dollars, date and time).
public struct Workbook {
  /// A cell's value and how a spreadsheet shows it; nil values are empty cells.
  public enum Cell {
    case text(String?)
    case integer(Int?)
    case number(Double?)
    /// A share shown as `87.5%`.
    case percent(Double?)
    /// Dollars, shown to four decimals (costs per trial are fractions of a cent).
    case usd(Double?)
    case date(Date?)
    case bool(Bool?)
  }

  /// One sheet: a header row and typed rows; `widths` in characters, per column.
  public struct Sheet {
    public var name: String
    public var header: [String]
    public var widths: [Int]
    public var rows: [[Cell]]

    public init(name: String, header: [String], widths: [Int] = [], rows: [[Cell]]) {
      self.name = name
      self.header = header
      self.widths = widths
      self.rows = rows
    }
  }

  /// The sheets, in order.
  public var sheets: [Sheet]

  public init(sheets: [Sheet]) { self.sheets = sheets }

  /// The most rows a sheet holds (Excel's limit, the header included).
  public static let rowLimit = 1_048_576
  /// The most characters a cell holds (Excel's limit).
  public static let cellLimit = 32_767

  /// Why a workbook was not written where asked.
  public struct Refusal: LocalizedError {
    public var errorDescription: String?
  }

  /// Writes the workbook to `path`; entries are dated `date`, so the same run exports to the same
  /// bytes. It is built in a temporary file beside `path` and renamed into place, so an interrupted
  /// export leaves the old file. Only an earlier workbook (a ZIP) or an empty file is replaced: a
  /// folder, the results database or any other file at `path` is refused, never lost.
  public func write(to path: String, date: Date) throws {
    try Self.checkReplaceable(path)
    let temporary = "\(path).evalh-\(getpid()).tmp"
    unlink(temporary)
    do {
      try writeArchive(to: temporary, date: date)
      guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    } catch {
      unlink(temporary)
      throw error
    }
  }

  /// Refuses a `path` that holds something other than a workbook.
  static func checkReplaceable(_ path: String) throws {
    var info = stat()
    guard stat(path, &info) == 0 else { return }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw Refusal(errorDescription: "it is not a file (a folder?); name the workbook's file, such as run.xlsx")
    }
    let head = FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 4) } ?? Data()
    guard head.isEmpty || head == Data([0x50, 0x4B, 0x03, 0x04]) else {
      throw Refusal(
        errorDescription:
          "it holds something other than a workbook (\(head.starts(with: Data("SQLi".utf8)) ? "a SQLite database" : "not a ZIP")); it is left as it is: name another file"
      )
    }
  }

  /// The ZIP, whole once this returns (the archive's file is closed with it).
  private func writeArchive(to path: String, date: Date) throws {
    let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
    for (name, text) in parts {
      let data = Data(text.utf8)
      try archive.addEntry(
        with: name, type: .file, uncompressedSize: Int64(data.count), modificationDate: date,
        compressionMethod: .deflate
      ) { position, size in
        data.subdata(in: Int(position)..<Int(position) + size)
      }
    }
  }

  /// Every part of the package, by its path in the ZIP.
  var parts: [(String, String)] {
    let header = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
    let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    let relations = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    let package = "http://schemas.openxmlformats.org/package/2006/relationships"
    var types = header + #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
    types += #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
    types += #"<Default Extension="xml" ContentType="application/xml"/>"#
    types +=
      #"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
    types +=
      #"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
    var book = header + "<workbook xmlns=\"\(main)\" xmlns:r=\"\(relations)\"><sheets>"
    var bookRels = header + "<Relationships xmlns=\"\(package)\">"
    var out: [(String, String)] = []
    for (i, sheet) in sheets.enumerated() {
      let n = i + 1
      types +=
        "<Override PartName=\"/xl/worksheets/sheet\(n).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
      book += "<sheet name=\"\(Escape.xml(Self.sheetName(sheet.name)))\" sheetId=\"\(n)\" r:id=\"rId\(n)\"/>"
      bookRels +=
        "<Relationship Id=\"rId\(n)\" Type=\"\(relations)/worksheet\" Target=\"worksheets/sheet\(n).xml\"/>"
      out.append(("xl/worksheets/sheet\(n).xml", header + Self.worksheet(sheet, namespace: main)))
    }
    bookRels +=
      "<Relationship Id=\"rId\(sheets.count + 1)\" Type=\"\(relations)/styles\" Target=\"styles.xml\"/></Relationships>"
    types += "</Types>"
    book += "</sheets></workbook>"
    let rootRels =
      header
      + "<Relationships xmlns=\"\(package)\"><Relationship Id=\"rId1\" Type=\"\(relations)/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
    return [
      ("[Content_Types].xml", types), ("_rels/.rels", rootRels), ("xl/workbook.xml", book),
      ("xl/_rels/workbook.xml.rels", bookRels), ("xl/styles.xml", header + Self.styles(namespace: main)),
    ] + out
  }

  /// Sheet names: at most 31 characters, none of `[]:*?/\`.
  static func sheetName(_ name: String) -> String {
    String(name.filter { !"[]:*?/\\".contains($0) }.prefix(31))
  }

  /// Style indexes into `styles`' cell formats.
  enum Style: Int {
    case plain = 0
    case header, percent, usd, date, integer
  }

  /// Fonts (plain, bold), and the cell formats `Style` names: built-in 10 is `0.00%`, 164 and 165 are ours.
  static func styles(namespace: String) -> String {
    """
    <styleSheet xmlns="\(namespace)">\
    <numFmts count="3"><numFmt numFmtId="164" formatCode="&quot;$&quot;#,##0.0000"/>\
    <numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/><numFmt numFmtId="166" formatCode="0.0%"/></numFmts>\
    <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
    <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
    <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
    <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
    <cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
    <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
    <xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
    <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
    <xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
    <xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
    <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
    </styleSheet>
    """
  }

  /// A sheet's XML: the header row frozen, then the rows (cut at `rowLimit`).
  static func worksheet(_ sheet: Sheet, namespace: String) -> String {
    var out = "<worksheet xmlns=\"\(namespace)\"><sheetViews><sheetView workbookViewId=\"0\">"
    out += "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
    out += "<selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews>"
    if !sheet.widths.isEmpty {
      out += "<cols>"
      for (i, width) in sheet.widths.enumerated() {
        out += "<col min=\"\(i + 1)\" max=\"\(i + 1)\" width=\"\(width)\" customWidth=\"1\"/>"
      }
      out += "</cols>"
    }
    out += "<sheetData>"
    out += row(1, sheet.header.map { Cell.text($0) }, header: true)
    for (i, cells) in sheet.rows.prefix(rowLimit - 1).enumerated() { out += row(i + 2, cells, header: false) }
    return out + "</sheetData></worksheet>"
  }

  static func row(_ number: Int, _ cells: [Cell], header: Bool) -> String {
    var out = "<row r=\"\(number)\">"
    for (i, cell) in cells.enumerated() {
      let ref = column(i) + String(number)
      func value(_ v: String, _ style: Style) -> String {
        "<c r=\"\(ref)\"\(style == .plain ? "" : " s=\"\(style.rawValue)\"")><v>\(v)</v></c>"
      }
      switch cell {
      case .text(let s?):
        let text = s.count > cellLimit ? String(s.prefix(cellLimit)) : s
        out +=
          "<c r=\"\(ref)\" t=\"inlineStr\"\(header ? " s=\"1\"" : "")><is><t xml:space=\"preserve\">\(Escape.xml(text))</t></is></c>"
      case .integer(let n?): out += value(String(n), .plain)
      case .number(let x?) where x.isFinite: out += value(Fmt.plain(x), .plain)
      case .percent(let x?) where x.isFinite: out += value(Fmt.plain(x), .percent)
      case .usd(let x?) where x.isFinite: out += value(Fmt.plain(x), .usd)
      case .date(let d?): out += value(Fmt.plain(serial(d)), .date)
      case .bool(let b?): out += "<c r=\"\(ref)\" t=\"b\"><v>\(b ? 1 : 0)</v></c>"
      default: break  // unknown: an empty cell
      }
    }
    return out + "</row>"
  }

  /// `A`, `B`, ..., `Z`, `AA`, ...
  static func column(_ index: Int) -> String {
    var n = index + 1
    var out = ""
    while n > 0 {
      let r = (n - 1) % 26
      out = String(UnicodeScalar(UInt8(65 + r))) + out
      n = (n - 1) / 26
    }
    return out
  }

  /// A date as a spreadsheet serial: days since 1899-12-30, in UTC.
  static func serial(_ date: Date) -> Double { date.timeIntervalSince1970 / 86_400 + 25_569 }
}
