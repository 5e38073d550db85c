import EvalhCore

/// What `evalh init` writes: a first suite that validates and runs as it is.
enum Scaffold {
  struct File {
    var name: String
    var text: String
    var executable = false
  }

  /// The tasks and graders both scaffolds share, for a small support desk.
  static let tasks = """
    tasks:
      - id: greeting
        input: Hello!
        expect:
          - regex: '(?i)\\b(hello|hi)\\b'
      - id: order-status
        input: Where is my order 1234?
        expect:
          - contains: "1234"
        assure:
          - max_latency: 5s
      - id: opening-hours
        input: When are you open?
        expect:
          - contains_any: [Monday, weekdays]
      - id: refund
        input: I want a refund for order 5521.
        expect:
          - regex: '(?i)refund'
        assure:
          - no_pii: [email, credit_card]   # a violation, not a failure: counted apart as assurance

    """

  /// The suite's JSON Schema beside it, named by the suite's first line for YAML language servers.
  static var schema: File { File(name: "suite.schema.json", text: SuiteSchema.document.prettyText + "\n") }

  static let subprocess: [File] = [
    File(
      name: "suite.yaml",
      text: """
        # yaml-language-server: $schema=suite.schema.json
        # A first suite: `evalh validate suite.yaml`, then `evalh run suite.yaml`.
        # Each task runs `trials` times; the report shows first-run success beside sustained success.
        version: 1
        name: my-first-suite
        trials: 8
        timeout: 10s
        agent:
          subprocess:
            command: [python3, agent.py]   # reads one evalh/1 request on stdin, prints one answer

        """ + tasks),
    File(
      name: "agent.py",
      text: """
        #!/usr/bin/env python3
        \"\"\"An evalh/1 agent: one JSON request on stdin, one JSON answer on stdout. Put your agent here.\"\"\"
        import json, random, sys

        request = json.loads(sys.stdin.readline())
        question = str(request["task"]["input"])
        rng = random.Random(request["seed"])           # the trial's seed: same --seed, same answers
        if "refund" in question:
            answer = "Your refund is on its way."
        elif "order" in question:
            answer = "Hi! Order " + "".join(c for c in question if c.isdigit()) + " has shipped."
        elif "open" in question:
            answer = "We are open Monday to Saturday, 9:00 to 18:00."
        else:
            answer = "Hello! How can I help?"
        if rng.random() < 0.05:                         # now and then a miss, as real agents have
            answer = "Sorry, could you say that again?"
        usage = {"input_tokens": len(question) // 4 + 40, "output_tokens": len(answer) // 4}
        print(json.dumps({"output": answer, "usage": usage}))

        """, executable: true),
    File(
      name: "README.md",
      text: """
        # my-first-suite

        ```sh
        evalh validate suite.yaml     # every problem with file:line:column
        evalh run suite.yaml          # 4 tasks × 8 trials, the summary on stdout
        evalh report latest --format html --output report.html
        ```

        `agent.py` answers evalh/1: a JSON request on stdin (`task.input`, `seed`, …),
        a JSON answer on stdout (`output`, optional `usage`). Replace its body with a call
        to your agent, or point `suite.yaml` at an HTTP endpoint instead. Editors with a
        YAML language server complete and check `suite.yaml` from `suite.schema.json`.

        """),
    schema,
  ]

  static func openAI(url: String, model: String) -> [File] {
    [
      File(
        name: "suite.yaml",
        text: """
            # yaml-language-server: $schema=suite.schema.json
          # A first suite over an OpenAI-compatible endpoint: `evalh validate suite.yaml`, then
          # `evalh run suite.yaml`. The key, if the server needs one, comes from OPENAI_API_KEY
          # and is redacted from everything evalh stores.
          version: 1
          name: my-first-suite
          trials: 8
          timeout: 30s
          agent:
            http:
              openai:
                base_url: ${OPENAI_BASE_URL:-\(url)}
                model: ${OPENAI_MODEL:-\(model)}
                api_key: ${OPENAI_API_KEY:-}

          """ + tasks),
      File(
        name: "README.md",
        text: """
          # my-first-suite

          ```sh
          evalh validate suite.yaml
          evalh run suite.yaml          # asks \(url) for model \(model), 4 tasks × 8 trials
          ```

          Set OPENAI_BASE_URL, OPENAI_MODEL and OPENAI_API_KEY to point it elsewhere.

          """),
      schema,
    ]
  }
}
