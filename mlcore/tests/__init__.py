"""theano.tests: the helpers Theano's "Extending Theano" tutorial tests new ops with (unittest_tools)."""
