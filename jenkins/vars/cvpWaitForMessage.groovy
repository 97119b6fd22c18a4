import com.example.cvp.Values

/**
 * cvpWaitForMessage(provider:, queue:, checks: [[field:, expectedValue:], ...], timeoutMinutes: 60,
 * selector: null, jmsPlugin: '2'): waits with the plugin's waitForCIMessage step for the first
 * message on `queue` that passes the checks, and returns its text (null when none came in time).
 *   provider  a provider whose useQueues is ON (the queue is a Consumer.* queue); it only receives
 *             what is published after the queue first exists
 *   jmsPlugin '1' (1.1.x: waitForCIMessage(providerName:, overrides:, checks:, selector:, timeout:))
 *             or '2' (2.0.x: waitForCIMessage(activeMQSubscriber(name:, overrides:, checks:, ...)))
 */
def call(Map args) {
    String major = Values.jmsMajor(args.jmsPlugin)
    if (major == null) {
        error("cvpWaitForMessage: jmsPlugin: '${args.jmsPlugin}' is not 1 or 2")
    }
    if (Values.blank(args.provider) || Values.blank(args.queue)) {
        error('cvpWaitForMessage: provider and queue are required')
    }
    Integer minutes = args.timeoutMinutes == null ? 60 : Integer.valueOf(args.timeoutMinutes.toString())
    Map data = [overrides: [topic: args.queue.toString()], checks: (List) (args.checks ?: []), timeout: minutes]
    if (!Values.blank(args.selector)) {
        data.selector = args.selector.toString()
    }
    if (major == '1') {
        return waitForCIMessage([providerName: args.provider.toString()] + data)
    }
    return waitForCIMessage(activeMQSubscriber([name: args.provider.toString()] + data))
}
