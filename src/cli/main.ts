console.log('dbsnap: under construction');
