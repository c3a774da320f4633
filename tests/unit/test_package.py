import pyovs


def test_version_strings():
    assert pyovs.OVS_VERSION == "3.1.0"
    assert pyovs.__version__.count(".") == 2
