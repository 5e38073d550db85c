import Foundation
import GRDB

/// Reads a row's cells by column, refusing a cell of the wrong type with a sentence that names it:
/// a database from elsewhere is data, and GRDB's subscripts trap on a cell they cannot convert.
struct Cells {
  let row: Row
  /// `runs` or `trials`, for the message.
  let table: String
  /// Which row, for the message (`run r-1`).
  let which: String
  let path: String

  /// The cell's value; a NULL or mistyped cell is an error.
  func value<T: DatabaseValueConvertible>(_ column: String) throws(StoreError) -> T {
    guard let value: T = try optional(column) else {
      throw .database(path: path, message: "\(table).\(column) of \(which) is NULL, which evalh never writes")
    }
    return value
  }

  /// The cell's value, nil for NULL; a mistyped cell is an error.
  func optional<T: DatabaseValueConvertible>(_ column: String) throws(StoreError) -> T? {
    let cell: DatabaseValue = row[column] ?? .null
    if cell.isNull { return nil }
    guard let value = T.fromDatabaseValue(cell) else {
      let shown = String(describing: cell).prefix(60)
      throw .database(path: path, message: "\(table).\(column) of \(which) is \(shown), not \(T.self)")
    }
    return value
  }
}
