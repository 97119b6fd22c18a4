/** What the test binding's `error` step throws (Jenkins' error step fails the build the same way). */
class PipelineError extends RuntimeException {
    PipelineError(String message) {
        super(message)
    }
}
