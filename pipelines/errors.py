"""The root of every error the pipeline commands raise, so a caller can catch them in one place.

Each error stays in the module of its command (and keeps its name, which other code catches);
this module only gives them a common ancestor. The CLI turns each into one line that says
what to fix. Errors of the shared modules they use (storage, content) come from
`digitaldock.errors.DigitalDockError` instead.
"""


class PipelineError(Exception):
    """A pipeline command (`validate`, `scan`, `publish`) could not run or stopped.

    - `pipelines.validate.ValidateError`: validation could not run at all: the content folder
      does not exist, or the git revision to compare with is not found. (Problems in the
      content are the report, not an error.)
    - `pipelines.scan.ScanError`: the scan could not run: clamd is not configured, cannot be
      reached, does not answer PING, or fails or refuses a stream (too long, no answer); also
      a CLAMD_PORT that is not a number. (A refused file is a finding, not an error.)
    - `pipelines.publish.PublishError`: publishing could not start (no build, an empty build)
      or stopped (a file vanished or changed while publishing, an upload or a delete failed).
    """
