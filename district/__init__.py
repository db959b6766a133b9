# Upstream (district/province) collector and its reports (see issue 5).
