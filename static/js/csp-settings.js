window.VIDEOJS_NO_DYNAMIC_STYLE = true; // keep the bundled video player from injecting <style> (CSP)
