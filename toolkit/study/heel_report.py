def evaluate(data):
    raise NotImplementedError


def figures(data, rows, sdir):
    return []
