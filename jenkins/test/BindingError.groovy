/** A plugin step or describable called with what the real plugin would refuse (test binding). */
class BindingError extends RuntimeException {
    BindingError(String message) {
        super(message)
    }
}
