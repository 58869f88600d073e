package dev.knowable.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.knowable.jobs.tables.Stage;
import dev.knowable.model.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The committed Airflow DAG is exactly what the CLI generates from its stage list. */
class AirflowDagTest {

  @Test
  void theCommittedDagMatchesTheCli() throws Exception {
    String committed = Files.readString(TestModels.repoRoot().resolve(AirflowDag.COMMITTED));
    assertThat(committed).as("regenerate with: deploy/knowable-local airflow-dag > " + AirflowDag.COMMITTED)
        .isEqualTo(AirflowDag.render(Stages.all()));
  }

  @Test
  void everyStageIsATaskThatWaitsForThePreviousStagesManifest() {
    String dag = AirflowDag.render(Stages.all());
    int last = -1;
    for (Stage s : Stages.all()) {
      String tables = String.join(", ", s.outputs().stream().map(t -> "\"" + t + "\"").toList());
      int at = dag.indexOf("(\"" + s.name() + "\", [" + tables + "])");
      assertThat(at).as("%s in the STAGES list, in pipeline order, with its tables", s.name())
          .isGreaterThan(last);
      last = at;
    }
    assertThat(dag).contains("task_id=task_id + \"_committed\"")
        .contains("\"/\" + t + \"/run_id=\" + RUN_ID + \"/_manifest.json\" for t in tables[:1]")
        .contains("application_args=[stage, \"--config\"")
        .contains("max_active_runs=1").contains("catchup=False").contains("\"retries\": 3")
        .contains("RUN_ID = \"{{ ds_nodash }}\"");
  }

  @Test
  void theCliPrintsIt() {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = Main.launch(new String[] {"airflow-dag"});
    } finally {
      System.setOut(old);
    }
    assertThat(rc).isEqualTo(Main.OK);
    assertThat(buf.toString(StandardCharsets.UTF_8)).isEqualTo(AirflowDag.render(Stages.all()));
    assertThat(Main.help()).contains("airflow-dag");
  }
}
