/* commands.h: the subcommands of `ulm`. Each takes argv with argv[0] = its own name and
 * returns the process exit code (cli.h: 0 ok, 1 failure, 2 usage). */
#ifndef ULM_TRAINER_COMMANDS_H
#define ULM_TRAINER_COMMANDS_H

int ulm_cmd_ingest(int argc, char **argv);
int ulm_cmd_synth(int argc, char **argv);
int ulm_cmd_train(int argc, char **argv);
int ulm_cmd_recommend(int argc, char **argv);
int ulm_cmd_inspect(int argc, char **argv);
int ulm_cmd_version(int argc, char **argv);
int ulm_cmd_eval(int argc, char **argv);
int ulm_cmd_eval_churn(int argc, char **argv);
int ulm_cmd_eval_recs(int argc, char **argv);
int ulm_cmd_clv(int argc, char **argv);
int ulm_cmd_tune(int argc, char **argv);
int ulm_cmd_predict(int argc, char **argv);
int ulm_cmd_import(int argc, char **argv);
int ulm_cmd_alerts(int argc, char **argv);
int ulm_cmd_profile(int argc, char **argv);
int ulm_cmd_segment(int argc, char **argv);
int ulm_cmd_campaign(int argc, char **argv);
int ulm_cmd_pipeline(int argc, char **argv);
int ulm_cmd_dashboard(int argc, char **argv);
int ulm_cmd_score(int argc, char **argv);

#endif
