import com.example.cvp.Values

/**
 * cvpCiTrigger(provider:, queue:, checks: [[field:, expectedValue:], ...], jmsPlugin: '2', noSquash: true):
 * the JMS Messaging plugin's CI-event trigger, shaped for the plugin's major, for
 * properties([pipelineTriggers([cvpCiTrigger(...)])]).
 *   provider  a provider whose useQueues is ON: the trigger listens on `queue`, a
 *             Consumer.<client>.<uuid>.VirtualTopic... queue (see cvpSubscription)
 *   queue     the consumer queue's name (the provider data's overrides.topic, as the plugin names it)
 *   checks    the msgChecks, as maps: in Pipeline there is no msgCheck(...) (that is Job DSL);
 *             `field` a JSONPath ("$." is put in front unless it is there), `expectedValue` a
 *             java.util.regex pattern *found* in the value
 *   jmsPlugin '1' (1.1.x: ciBuildTrigger(noSquash:, providerList: [...])) or '2' (2.0.x:
 *             ciBuildTrigger(noSquash:, providers: [...]))
 */
def call(Map args) {
    List<String> problems = []
    String major = Values.jmsMajor(args.jmsPlugin)
    if (major == null) {
        problems << "jmsPlugin: '${args.jmsPlugin}' is not 1 or 2".toString()
    }
    if (Values.blank(args.provider)) {
        problems << 'provider: missing'
    }
    if (Values.blank(args.queue) || !args.queue.toString().startsWith('Consumer.')) {
        problems << "queue: '${args.queue}' is not a Consumer.<client>.<uuid>.VirtualTopic... queue".toString()
    }
    List checks = []
    int i = 0
    for (Object c : (List) (args.checks ?: [])) {
        boolean known = c instanceof Map
        if (known) {
            for (Object k : ((Map) c).keySet()) {
                known = known && (k == 'field' || k == 'expectedValue')
            }
        }
        if (!known || Values.blank(c.field) || c.expectedValue == null) {
            problems << "checks[${i}]: expected [field: <JSONPath>, expectedValue: <regex>], got ${c}".toString()
        } else {
            checks << [field: c.field.toString(), expectedValue: c.expectedValue.toString()]
        }
        i++
    }
    if (!problems.isEmpty()) {
        error("cvpCiTrigger: ${problems.join('; ')}")
    }
    def subscriber = activeMQSubscriber(name: args.provider.toString(), overrides: [topic: args.queue.toString()], checks: checks)
    boolean noSquash = args.noSquash == null ? true : (args.noSquash as boolean)
    if (major == '1') {
        return ciBuildTrigger(noSquash: noSquash, providerList: [subscriber])
    }
    return ciBuildTrigger(noSquash: noSquash, providers: [subscriber])
}
