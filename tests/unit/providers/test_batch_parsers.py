"""Parsing of each scheduler's own output, from recorded command output."""
import pytest

from parsl._batch import condor, lsf, pbs, sge, slurm
from parsl._batch.scripts import render
from parsl._batch.walltime import wtime_to_minutes
from parsl.jobs.states import JobState as S
from parsl.providers.errors import SchedulerCommandError, SchedulerMissingArgs


def states(d):
    return {k: v.state for k, v in d.items()}


# --- Slurm -------------------------------------------------------------------------

def test_sbatch_job_id_with_and_without_clusters():
    assert slurm.parse_sbatch("Submitted batch job 4242\n") == "4242"
    assert slurm.parse_sbatch("Submitted batch job 17 on cluster perlmutter\n") == "17"
    assert slurm.parse_sbatch("sbatch: warning: something\n") is None


SQUEUE = """\
101 PD Priority
102 R None
103 CG None
104 TO TimeLimit
105 CA None
106 F NonZeroExitCode
107 NF NodeFail
108 S None
109 XX None
"""


def test_squeue_codes_map_to_job_states():
    got = slurm.parse_squeue(SQUEUE, [str(i) for i in range(101, 111)])
    assert states(got) == {"101": S.PENDING, "102": S.RUNNING, "103": S.RUNNING, "104": S.TIMEOUT,
                           "105": S.CANCELLED, "106": S.FAILED, "107": S.FAILED, "108": S.HELD,
                           "109": S.UNKNOWN, "110": S.COMPLETED}
    assert got["101"].message == "Priority" and got["102"].message is None


def test_squeue_with_clusters_header():
    got = slurm.parse_squeue("CLUSTER: alpha\n7 R None\n", ["7"])
    assert got["7"].state == S.RUNNING


SACCT = """\
2001            PENDING
2002            RUNNING
2003         COMPLETED
2004       CANCELLED by 0
2005            TIMEOUT
2006      OUT_OF_MEMORY
2007          PREEMPTED
2008          BOOT_FAIL
2009           DEADLINE
"""


def test_sacct_long_names():
    got = slurm.parse_sacct(SACCT, [str(i) for i in range(2001, 2010)])
    assert states(got) == {"2001": S.PENDING, "2002": S.RUNNING, "2003": S.COMPLETED, "2004": S.CANCELLED,
                           "2005": S.TIMEOUT, "2006": S.FAILED, "2007": S.TIMEOUT, "2008": S.FAILED,
                           "2009": S.TIMEOUT}
    assert got["2004"].message == "CANCELLED by 0"


def test_unparsable_status_line_quotes_it():
    with pytest.raises(SchedulerCommandError, match=r"could not parse the line 'garbage'"):
        slurm.parse_squeue("garbage\n", ["1"])


# --- PBS Pro / Torque -----------------------------------------------------------------

PBSPRO_JSON = """{
    "timestamp":1700000000,
    "pbs_version":"2022.1.3",
    "pbs_server":"pbs01",
    "Jobs":{
        "11.pbs01":{"Job_Name":"parsl.block-0","job_state":"Q","queue":"workq"},
        "12.pbs01":{"Job_Name":"parsl.block-1","job_state":"R","queue":"workq"},
        "13.pbs01":{"Job_Name":"parsl.block-2","job_state":"F","Exit_status":0},
        "14.pbs01":{"Job_Name":"parsl.block-3","job_state":"F","Exit_status":271,"comment":"Job run at ... and failed"},
        "15.pbs01":{"Job_Name":"parsl.block-4","job_state":"H"}
    }
}"""


def test_pbspro_json_states_and_exit_codes():
    ids = ["11.pbs01", "12.pbs01", "13.pbs01", "14.pbs01", "15.pbs01", "16.pbs01"]
    got = pbs.parse_pbspro_json(PBSPRO_JSON, ids)
    assert states(got) == {"11.pbs01": S.PENDING, "12.pbs01": S.RUNNING, "13.pbs01": S.COMPLETED,
                           "14.pbs01": S.FAILED, "15.pbs01": S.HELD, "16.pbs01": S.COMPLETED}
    assert got["14.pbs01"].exit_code == 271


def test_pbspro_bad_json_is_quoted():
    with pytest.raises(SchedulerCommandError, match="expected JSON"):
        pbs.parse_pbspro_json("qstat: Server down\n{", ["1"])


TORQUE_QSTAT = """\
Job ID                    Name             User            Time Use S Queue
------------------------- ---------------- --------------- -------- - -----
301.torque01               parsl.block-0    alice           00:00:00 Q batch
302.torque01               parsl.block-1    alice           00:01:10 R batch
303.torque01               parsl.block-2    alice           00:02:00 C batch
"""


def test_torque_table():
    got = pbs.parse_torque_qstat(TORQUE_QSTAT, ["301.torque01", "302.torque01", "303.torque01", "304.torque01"])
    assert states(got) == {"301.torque01": S.PENDING, "302.torque01": S.RUNNING,
                           "303.torque01": S.COMPLETED, "304.torque01": S.COMPLETED}


def test_qsub_id():
    assert pbs.parse_qsub("301.torque01\n") == "301.torque01"
    assert pbs.parse_qsub("") is None


# --- LSF ------------------------------------------------------------------------

def test_bsub_and_bjobs():
    assert lsf.parse_bsub("Job <5001> is submitted to queue <normal>.\n") == "5001"
    out = "5001 PEND -\n5002 RUN -\n5003 DONE 0\n5004 EXIT 2\n5005 USUSP -\n"
    got = lsf.parse_bjobs(out, ["5001", "5002", "5003", "5004", "5005"])
    assert states(got) == {"5001": S.PENDING, "5002": S.RUNNING, "5003": S.COMPLETED,
                           "5004": S.FAILED, "5005": S.HELD}
    assert got["5004"].exit_code == 2


def test_bjobs_not_found_lines_are_skipped():
    got = lsf.parse_bjobs("Job <77> is not found\n", ["77"])
    assert got["77"].state == S.COMPLETED


# --- Grid Engine -------------------------------------------------------------------

SGE_QSTAT = """\
job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID
-----------------------------------------------------------------------------------------------------------------
    401 0.55500 parsl.bloc alice        r     11/26/2026 02:00:00 all.q@node1                        1
    402 0.55500 parsl.bloc alice        qw    11/26/2026 02:00:01                                    1
    403 0.55500 parsl.bloc alice        Eqw   11/26/2026 02:00:02                                    1
    404 0.55500 parsl.bloc alice        hqw   11/26/2026 02:00:03                                    1
    405 0.55500 parsl.bloc alice        dr    11/26/2026 02:00:04 all.q@node1                        1
    999 0.55500 other      alice        r     11/26/2026 02:00:05 all.q@node1                        1
"""


def test_grid_engine_qstat():
    got = sge.parse_qstat(SGE_QSTAT, ["401", "402", "403", "404", "405", "406"])
    assert states(got) == {"401": S.RUNNING, "402": S.PENDING, "403": S.FAILED, "404": S.HELD,
                           "405": S.CANCELLED, "406": S.COMPLETED}
    assert sge.parse_qsub_terse("401\n") == "401" and sge.parse_qsub_terse("Unable to run job\n") is None


# --- Condor ------------------------------------------------------------------------

def test_condor_submit_and_q():
    assert condor.parse_condor_submit("Submitting job(s)..\n2 job(s) submitted to cluster 88.\n") == "88"
    out = "88.0 2 undefined\n88.1 1 undefined\n89.0 4 0\n90.0 4 1\n91.0 5 undefined\n"
    got = condor.parse_condor_q(out, ["88", "89", "90", "91", "92"])
    assert states(got) == {"88": S.RUNNING, "89": S.COMPLETED, "90": S.FAILED, "91": S.HELD, "92": S.COMPLETED}


# --- shared -------------------------------------------------------------------------

@pytest.mark.parametrize("text,minutes", [("00:10:00", 10), ("01:00:00", 60), ("00:00:30", 1), ("90", 90),
                                          ("1:30", 2)])
def test_walltime_minutes_round_up(text, minutes):
    assert wtime_to_minutes(text) == minutes


def test_walltime_rejects_garbage():
    with pytest.raises(ValueError, match="HH:MM:SS"):
        wtime_to_minutes("ten minutes")


def test_missing_template_values_are_named():
    with pytest.raises(SchedulerMissingArgs) as e:
        render("#X ${a} ${b} $c", {"a": 1}, "slurm")
    assert e.value.missing_keywords == ["b", "c"]
