package org.jenkinsci.plugins.workflow.steps

/** Stand-in for Jenkins' FlowInterruptedException (a build aborted while a step waits), for the tests. */
class FlowInterruptedException extends InterruptedException {
    FlowInterruptedException(String message) {
        super(message)
    }
}
