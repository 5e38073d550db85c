/// The HTML report's one style sheet, inlined in the page (nothing is fetched).
extension HTMLReport {
  static let css = """
    body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2330;background:#f6f7f9;margin:0;padding:24px 32px;max-width:1180px}
    h1{margin:0 0 4px;font-size:26px}h2{font-size:18px;margin:0 0 4px}p{margin:4px 0}
    .meta{color:#5b6475;font-size:13px}.lede{max-width:860px;margin-top:10px}.warn{color:#a4430b;font-weight:600}
    section{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:16px 20px;margin:16px 0}
    .note{color:#5b6475;font-size:13px;margin-bottom:10px}
    .cards{display:flex;flex-wrap:wrap;gap:16px;background:none;border:none;padding:0}
    .card{background:#fff;border:1px solid #e3e6eb;border-top:5px solid;border-radius:8px;padding:14px 18px;min-width:300px;flex:1}
    .card h2{font-size:16px}.big{display:flex;align-items:baseline;gap:14px;margin:8px 0}
    .big div{text-align:center}.big b{display:block;font-size:30px}.big span{font-size:12px;color:#5b6475}
    .arrow{font-size:22px;color:#8a93a3}.cliff{color:#b3261e;font-weight:700}
    details.task{margin:4px 0}details.task summary{cursor:pointer}
    .trial{border-left:3px solid #8a93a3;margin:6px 0 6px 14px;padding-left:8px}.trial.pass{border-color:#009E73}
    .trial.fail{border-color:#b3261e}.trial.error,.trial.timeout{border-color:#E69F00}
    .trial pre{white-space:pre-wrap;word-break:break-word;background:#f6f7f9;padding:6px;margin:4px 0}
    .err{color:#b3261e}li.bad{color:#b3261e}li.ok{color:#3b4354}
    table.kv{border-collapse:collapse;font-size:13px;width:100%}table.kv td{padding:2px 0}table.kv td+td{text-align:right}
    .ci{color:#8a93a3;font-size:12px}
    table.grid{border-collapse:separate;border-spacing:2px;font-size:12px}
    table.grid td.t{padding-right:8px;white-space:nowrap;max-width:260px;overflow:hidden;text-overflow:ellipsis}
    table.grid td.c{width:14px;height:14px;border-radius:2px}
    .pass{background:#2e9d5b}.fail{background:#d64541}.timeout{background:#f0a30a}.error{background:#7a7f8a}.none{background:#e6e8ec}
    .flaky{color:#b3261e;font-size:11px;font-weight:600;margin-left:6px}
    .legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px 0 12px;vertical-align:middle}
    footer{color:#8a93a3;font-size:12px;margin-top:24px}
    svg text{font-size:12px;fill:#3b4354}
    """
}
