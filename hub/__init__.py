# The ward hub: the queue authority, board state, statistics and the upstream forwarder.
