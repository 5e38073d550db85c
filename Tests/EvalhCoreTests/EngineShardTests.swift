import Testing

@testable import EvalhCore

/// `--shard auto` under each engine's variables.
@Suite struct EngineShardTests {
  @Test func eachEngineGivesItsShard() throws {
    let k8s = try EngineShard.resolve(["JOB_COMPLETION_INDEX": "2"], shards: 4)
    #expect(k8s.shard == Shard("3/4") && k8s.source.hasPrefix("the Kubernetes Indexed Job"))
    let slurm = try EngineShard.resolve(
      ["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_COUNT": "4"], shards: nil)
    #expect(slurm.shard == Shard("3/4") && slurm.source.hasPrefix("the Slurm job array"))
    let stepped = try EngineShard.resolve(
      [
        "SLURM_ARRAY_TASK_ID": "20", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "10",
        "SLURM_ARRAY_TASK_COUNT": "3",
      ], shards: 3)
    #expect(stepped.shard == Shard("3/3"))
    let gitlab = try EngineShard.resolve(["CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "5"], shards: nil)
    #expect(gitlab.shard == Shard("1/5") && gitlab.source.hasPrefix("GitLab's parallel job"))
  }

  @Test func whatCannotBeToldIsAnError() {
    func message(_ env: [String: String], _ shards: Int? = nil) -> String {
      do {
        _ = try EngineShard.resolve(env, shards: shards)
        return ""
      } catch { return error.description }
    }
    #expect(message([:]).contains("found no engine's index"))
    #expect(message(["JOB_COMPLETION_INDEX": "0"]).contains("add --shards N"))
    #expect(message(["JOB_COMPLETION_INDEX": "4"], 4).contains("does not exist"))
    #expect(message(["CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"], 4).contains("disagrees"))
    #expect(message(["CI_NODE_INDEX": "x", "CI_NODE_TOTAL": "3"]).contains("not a whole number"))
    #expect(message(["SLURM_ARRAY_TASK_ID": "3"]).contains("SLURM_ARRAY_TASK_COUNT"))
  }
}
