"""The bottom layer: the types every other part shares, importing nothing of parsl but this
package -- the error hierarchy (``errors``), remote exceptions (``remote``), task and job
states (``task_states``, ``job_states``), monitoring message types (``message_type``), the
seams between the workflow and monitoring (``monitoring_sink``), ``File`` (``files``), the
futures apps return (``futures``) and the version (``version``).  The public modules
re-export them at Parsl's paths."""
